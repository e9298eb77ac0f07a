-- Reconciliation, per month, as cheap aggregate comparisons along the revenue chain (exact decimal
-- sums, so equal means equal on every engine):
--   events: line revenue (invoices dated through the as-of date, months through the as-of month) minus
--           credit notes equals int_account_revenue_monthly (nothing lost or doubled by the survivor
--           roll-up);
--   spine:  int_account_revenue_monthly from each account's first month with revenue > 0 equals
--           fct_account_revenue_monthly (account-months before it are off the spine by definition).
-- The line revenue itself is reconciled to the staging amounts line by line and per currency
-- (assert_revenue_reconciles_to_source_per_currency), the month-weight split and the FX lookup by unit
-- tests. Returns the months that do not reconcile, with the three sums.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

line_events as (
    select r.revenue_month, sum(r.recognised_revenue) as revenue
    from {{ ref('int_invoice_line_revenue') }} as r
    cross join as_of
    where r.invoice_date <= as_of.as_of_date
        and r.revenue_month <= as_of.as_of_month
    group by r.revenue_month
),

credit_events as (
    select c.revenue_month, sum(c.revenue_reporting) as revenue
    from {{ ref('int_credit_notes_converted') }} as c
    cross join as_of
    where c.credit_date <= as_of.as_of_date
    group by c.revenue_month
),

events as (
    select revenue_month, sum(revenue) as revenue
    from (
        select revenue_month, revenue from line_events
        union all
        select revenue_month, revenue from credit_events
    ) as e
    group by revenue_month
),

account_monthly as (
    select * from {{ ref('int_account_revenue_monthly') }}
),

firsts as (
    select account_id, min(revenue_month) as first_month
    from account_monthly
    where revenue > 0
    group by account_id
),

monthly as (
    select
        m.revenue_month,
        sum(m.revenue) as revenue,
        sum(case when m.revenue_month >= f.first_month then m.revenue else 0 end) as spine_revenue
    from account_monthly as m
    left join firsts as f
        on f.account_id = m.account_id
    group by m.revenue_month
),

fct as (
    select revenue_month, sum(revenue) as revenue
    from {{ ref('fct_account_revenue_monthly') }}
    group by revenue_month
),

compared as (
    select
        coalesce(e.revenue_month, m.revenue_month, f.revenue_month) as revenue_month,
        coalesce(e.revenue, 0) as event_revenue,
        coalesce(m.revenue, 0) as account_monthly_revenue,
        coalesce(m.spine_revenue, 0) as spine_revenue,
        coalesce(f.revenue, 0) as fct_revenue
    from events as e
    full outer join monthly as m
        on m.revenue_month = e.revenue_month
    full outer join fct as f
        on f.revenue_month = coalesce(e.revenue_month, m.revenue_month)
)

select *
from compared
where event_revenue <> account_monthly_revenue
    or spine_revenue <> fct_revenue
