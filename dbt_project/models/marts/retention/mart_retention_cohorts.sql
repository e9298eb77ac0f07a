-- Cohorts by first revenue month: revenue and active accounts n months later.
-- Grain: cohort_month × months_since.
with accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

cohort_sizes as (
    select first_revenue_month as cohort_month, count(distinct account_id) as cohort_accounts
    from accounts
    group by first_revenue_month
),

per_cell as (
    select
        first_revenue_month as cohort_month,
        month_index - {{ month_index('first_revenue_month') }} as months_since,
        min(revenue_month) as revenue_month,
        cast(sum(revenue) as {{ type_money() }}) as revenue,
        sum(case when revenue > 0 then 1 else 0 end) as active_accounts
    from accounts
    group by first_revenue_month, month_index - {{ month_index('first_revenue_month') }}
),

final as (
    select
        c.cohort_month,
        c.months_since,
        c.revenue_month,
        s.cohort_accounts,
        c.active_accounts,
        {{ float_divide('c.active_accounts', 's.cohort_accounts') }} as active_share,
        c.revenue
    from per_cell as c
    inner join cohort_sizes as s on s.cohort_month = c.cohort_month
)

select * from final
