-- The floor: one hand-written DuckDB query over the raw extract CSVs of a landing zone that does the
-- core work of a full build — latest version per key, FX at the latest rate on or before the date,
-- month weights over the service period, voids, credit notes — and the monthly account-level
-- concentration (month and t12m windows: active count, total, top-20% share, HHI, Gini).
-- `{root}` is replaced by the landing root, `{ccy}` by the reporting currency and `{as_of}` by the latest
-- extract day (months after its month are deferred revenue, as in the marts) — see benchmarks/bench_scale.py.
with
fx as (
    select rate_date, currency, rate_to_reporting
    from read_csv('{root}/billing/*/fx_rates.csv', header = true, filename = true,
                  columns = {'rate_date': 'DATE', 'currency': 'VARCHAR', 'rate_to_reporting': 'DOUBLE'})
    qualify row_number() over (partition by rate_date, currency order by filename desc) = 1
),
invoices as (
    select invoice_id, account_id, invoice_date, currency, status
    from read_csv('{root}/billing/*/invoices.csv', header = true,
                  columns = {'invoice_id': 'VARCHAR', 'account_id': 'VARCHAR', 'invoice_date': 'DATE',
                             'due_date': 'DATE', 'currency': 'VARCHAR', 'status': 'VARCHAR',
                             'updated_at': 'TIMESTAMP'})
    qualify row_number() over (partition by invoice_id order by updated_at desc) = 1
),
lines as (
    select invoice_line_id, invoice_id, amount, service_start, service_end
    from read_csv('{root}/billing/*/invoice_lines.csv', header = true,
                  columns = {'invoice_line_id': 'VARCHAR', 'invoice_id': 'VARCHAR', 'product_code': 'VARCHAR',
                             'description': 'VARCHAR', 'quantity': 'DOUBLE', 'unit_price': 'DOUBLE',
                             'amount': 'DOUBLE', 'service_start': 'DATE', 'service_end': 'DATE',
                             'updated_at': 'TIMESTAMP'})
    qualify row_number() over (partition by invoice_line_id order by updated_at desc) = 1
),
credit_notes as (
    select account_id, credit_date, currency, amount
    from read_csv('{root}/billing/*/credit_notes.csv', header = true,
                  columns = {'credit_note_id': 'VARCHAR', 'invoice_id': 'VARCHAR', 'account_id': 'VARCHAR',
                             'credit_date': 'DATE', 'currency': 'VARCHAR', 'amount': 'DOUBLE',
                             'reason': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
    qualify row_number() over (partition by credit_note_id order by updated_at desc) = 1
),
converted as (
    select l.invoice_line_id, i.account_id, l.service_start, l.service_end,
           l.amount * case when i.currency = '{ccy}' then 1 else fx.rate_to_reporting end as amount
    from lines l
    join invoices i using (invoice_id)
    asof left join fx on fx.currency = i.currency and i.invoice_date >= fx.rate_date
    where i.status <> 'void'
),
spread as (
    select invoice_line_id, account_id, amount, m as revenue_month,
           (least(service_end, last_day(m)) - greatest(service_start, m) + 1)
               / (last_day(m) - m + 1) as w
    from (select c.*, cast(t.ts as date) as m
          from converted c,
               unnest(generate_series(date_trunc('month', service_start)::date,
                                      date_trunc('month', service_end)::date, interval 1 month)) as t(ts))
),
line_revenue as (
    select account_id, revenue_month::date as revenue_month,
           amount * w / sum(w) over (partition by invoice_line_id) as revenue
    from spread
),
credits as (
    select c.account_id, date_trunc('month', c.credit_date)::date as revenue_month,
           -c.amount * case when c.currency = '{ccy}' then 1 else fx.rate_to_reporting end as revenue
    from credit_notes c
    asof left join fx on fx.currency = c.currency and c.credit_date >= fx.rate_date
),
monthly as (
    select account_id, revenue_month, sum(revenue) as revenue
    from (select account_id, revenue_month, revenue from line_revenue
          union all select account_id, revenue_month, revenue from credits)
    where revenue_month <= date_trunc('month', date '{as_of}')
    group by all
),
windows as (
    select account_id, revenue_month, 'month' as time_window, revenue from monthly
    union all
    select a.account_id, m.revenue_month, 't12m', sum(a.revenue)
    from (select distinct revenue_month from monthly) m
    join monthly a on a.revenue_month between m.revenue_month - interval 11 month and m.revenue_month
    group by all
),
ranked as (
    select *, row_number() over (partition by revenue_month, time_window order by revenue desc) as rank_desc,
           count(*) over (partition by revenue_month, time_window) as n,
           sum(revenue) over (partition by revenue_month, time_window) as total
    from windows where revenue > 0
)
select revenue_month, time_window, any_value(n) as active_count, any_value(total) as total_revenue,
       sum(revenue) filter (where rank_desc <= ceil(0.2 * n)) / any_value(total) as top_20pct_share,
       sum(power(100 * revenue / total, 2)) as hhi,
       case when any_value(n) = 1 then 0
            else sum((2 * (n - rank_desc + 1) - n - 1) * revenue) / (any_value(n) * any_value(total)) end as gini
from ranked
group by revenue_month, time_window
order by revenue_month, time_window
