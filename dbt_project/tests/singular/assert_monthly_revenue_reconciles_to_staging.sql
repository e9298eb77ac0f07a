-- Reconciliation: per month, sum(fct_account_revenue_monthly.revenue) equals recognised revenue
-- computed straight from staging (issued lines spread by the month weights, minus credit notes,
-- converted with a scalar-subquery FX lookup) to the cent. Account-months before the account's first
-- month with revenue > 0 are not on the fct spine by definition and are left out on both sides.
-- Returns the months that do not reconcile.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }}
),

rate_of as (
    select
        i.invoice_id,
        case when i.currency = '{{ reporting_currency() }}' then 1.0 else (
            select r.rate_to_reporting from {{ ref('stg_billing__fx_rates') }} as r
            where r.currency = i.currency and r.rate_date <= i.invoice_date
            order by r.rate_date desc limit 1
        ) end as rate
    from invoices as i
),

line_months as (
    select
        i.account_id,
        m.revenue_month,
        l.invoice_line_id,
        l.amount * ro.rate as amount,
        (least(l.service_end, m.month_end) - greatest(l.service_start, m.revenue_month) + 1) * 1.0
            / m.days_in_month as w
    from {{ ref('stg_billing__invoice_lines') }} as l
    inner join invoices as i on i.invoice_id = l.invoice_id
    inner join rate_of as ro on ro.invoice_id = i.invoice_id
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
        cast(date_trunc('month', c.credit_date) as date) as revenue_month,
        -c.amount * case when c.currency = '{{ reporting_currency() }}' then 1.0 else (
            select r.rate_to_reporting from {{ ref('stg_billing__fx_rates') }} as r
            where r.currency = c.currency and r.rate_date <= c.credit_date
            order by r.rate_date desc limit 1
        ) end as revenue
    from {{ ref('stg_billing__credit_notes') }} as c
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
    select revenue_month, sum(revenue) as revenue
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
