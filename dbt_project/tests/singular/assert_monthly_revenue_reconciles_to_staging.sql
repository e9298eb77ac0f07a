-- Reconciliation: per month, sum(fct_account_revenue_monthly.revenue) equals recognised revenue
-- computed straight from staging (issued lines spread by the month weights, minus credit notes,
-- converted at the latest rate on or before the document date) to the cent. Account-months before the
-- account's first month with revenue > 0 are not on the fct spine by definition and are left out on
-- both sides. Portable and fast on every engine: the FX lookup is a join on the latest rate date per
-- document (an aggregate), not a correlated subquery. Returns the months that do not reconcile.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }}
),

credit_notes as (
    select * from {{ ref('stg_billing__credit_notes') }}
),

fx_rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
),

documents as (
    select 'invoice' as document_kind, invoice_id as document_id, currency, invoice_date as document_date
    from invoices
    union all
    select 'credit_note', credit_note_id, currency, credit_date from credit_notes
),

latest_rate_dates as (
    select d.document_kind, d.document_id, max(r.rate_date) as rate_date
    from documents as d
    inner join fx_rates as r
        on r.currency = d.currency
        and r.rate_date <= d.document_date
    group by d.document_kind, d.document_id
),

document_rates as (
    select
        d.document_kind,
        d.document_id,
        case when d.currency = '{{ reporting_currency() }}' then 1.0 else r.rate_to_reporting end as rate
    from documents as d
    left join latest_rate_dates as lr
        on lr.document_kind = d.document_kind
        and lr.document_id = d.document_id
    left join fx_rates as r
        on r.currency = d.currency
        and r.rate_date = lr.rate_date
),

line_months as (
    select
        i.account_id,
        m.revenue_month,
        l.invoice_line_id,
        {{ to_double('l.amount * dr.rate') }} as amount,
        {{ float_divide(days_between('greatest(l.service_start, m.revenue_month)',
                                     'least(l.service_end, m.month_end)') ~ ' + 1', 'm.days_in_month') }} as w
    from {{ ref('stg_billing__invoice_lines') }} as l
    inner join invoices as i on i.invoice_id = l.invoice_id
    inner join document_rates as dr on dr.document_kind = 'invoice' and dr.document_id = i.invoice_id
    inner join {{ ref('int_calendar_months') }} as m
        on m.month_end >= l.service_start and m.revenue_month <= l.service_end
    cross join as_of
    where i.status = 'issued' and i.invoice_date <= as_of.as_of_date
),

line_revenue as (
    select account_id, revenue_month, amount * w / sum(w) over (partition by invoice_line_id) as revenue
    from line_months
),

credit_revenue as (
    select
        c.account_id,
        {{ month_start('c.credit_date') }} as revenue_month,
        -1 * {{ to_double('c.amount * dr.rate') }} as revenue
    from credit_notes as c
    inner join document_rates as dr on dr.document_kind = 'credit_note' and dr.document_id = c.credit_note_id
    cross join as_of
    where c.credit_date <= as_of.as_of_date
),

by_survivor as (
    select s.survivor_account_id as account_id, e.revenue_month, sum(e.revenue) as revenue
    from (select * from line_revenue union all select * from credit_revenue) as e
    inner join {{ ref('int_account_survivors') }} as s on s.account_id = e.account_id
    cross join as_of
    where e.revenue_month <= as_of.as_of_month
    group by s.survivor_account_id, e.revenue_month
),

firsts as (
    select account_id, min(revenue_month) as first_month from by_survivor where revenue > 0.000001 group by account_id
),

expected as (
    select b.revenue_month, sum(b.revenue) as revenue
    from by_survivor as b
    inner join firsts as f on f.account_id = b.account_id and b.revenue_month >= f.first_month
    group by b.revenue_month
),

actual as (
    select revenue_month, {{ to_double('sum(revenue)') }} as revenue
    from {{ ref('fct_account_revenue_monthly') }}
    group by revenue_month
)

select
    coalesce(e.revenue_month, a.revenue_month) as revenue_month,
    e.revenue as expected_revenue,
    a.revenue as fct_revenue
from expected as e
full outer join actual as a on a.revenue_month = e.revenue_month
where abs(coalesce(e.revenue, 0) - coalesce(a.revenue, 0)) >= 0.005
