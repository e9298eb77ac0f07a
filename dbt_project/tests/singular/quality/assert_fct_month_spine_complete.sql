-- Grain of fct_account_revenue_monthly: every account has one row per month, without a gap, from its
-- first month with revenue > 0 through the as-of month. Returns the accounts that do not.
with as_of as (
    select as_of_month, as_of_month_index from {{ ref('int_as_of_date') }}
),

per_account as (
    select
        account_id,
        min(month_index) as first_index,
        max(month_index) as last_index,
        max(revenue_month) as last_month,
        count(distinct revenue_month) as months,
        count(*) as row_count
    from {{ ref('fct_account_revenue_monthly') }}
    group by account_id
)

select
    p.account_id,
    p.months,
    p.row_count,
    p.last_month,
    a.as_of_month,
    a.as_of_month_index - p.first_index + 1 as expected_months
from per_account as p
cross join as_of as a
where p.months <> p.row_count
    or p.last_index <> a.as_of_month_index
    or p.months <> p.last_index - p.first_index + 1
