-- Trailing-12-month retention per month over the base B = accounts with R12 > 0 twelve months earlier
-- (kam-domain.md): NRR, GRR (each account capped at its earlier R12), logo retention; null where B is
-- empty. Grain: revenue_month.
with accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

report_months as (
    select m.revenue_month, m.month_index
    from months as m
    cross join as_of
    where m.revenue_month <= as_of.as_of_month
        and m.revenue_month >= (select min(first_revenue_month) from accounts)
),

base as (
    select
        cur.revenue_month,
        prior.revenue_t12m as base_revenue_t12m,
        coalesce(cur.revenue_t12m, 0) as current_revenue_t12m
    from accounts as prior
    inner join accounts as cur
        on cur.account_id = prior.account_id
        and cur.month_index = prior.month_index + 12
    where prior.revenue_t12m > 0
),

per_month as (
    select
        revenue_month,
        count(*) as base_accounts,
        cast(sum(base_revenue_t12m) as {{ type_money() }}) as base_revenue_t12m,
        cast(sum(current_revenue_t12m) as {{ type_money() }}) as retained_revenue_t12m,
        cast(sum(least(current_revenue_t12m, base_revenue_t12m)) as {{ type_money() }}) as capped_revenue_t12m,
        sum(case when current_revenue_t12m > 0 then 1 else 0 end) as retained_accounts
    from base
    group by revenue_month
),

final as (
    select
        rm.revenue_month,
        coalesce(pm.base_accounts, 0) as base_accounts,
        pm.base_revenue_t12m,
        pm.retained_revenue_t12m,
        {{ float_divide('pm.retained_revenue_t12m', 'pm.base_revenue_t12m') }} as nrr_t12m,
        {{ float_divide('pm.capped_revenue_t12m', 'pm.base_revenue_t12m') }} as grr_t12m,
        {{ float_divide('pm.retained_accounts', 'pm.base_accounts') }} as logo_retention_t12m
    from report_months as rm
    left join per_month as pm on pm.revenue_month = rm.revenue_month
)

select * from final
