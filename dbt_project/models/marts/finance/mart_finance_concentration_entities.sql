{{ config(materialized='view') }}
-- Every active account and group of every month and window as the report lists them (current data):
-- name, segment, customer type and tier, revenue, rank (descending), share and cumulative share
-- (the top lists and the Pareto chart), and the Lorenz point (ascending). `kam close` freezes the
-- closed month of this view into finance.concentration_closed_entities. A group is named after its
-- head account (group_id is the head's account_id).
with lorenz as (
    select * from {{ ref('mart_revenue_lorenz') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

sums as (
    select
        revenue_month,
        level,
        {{ adapter.quote('window') }} as time_window,
        entity_id,
        revenue,
        point,
        cumulative_entity_share,
        cumulative_revenue_share,
        row_number() over (
            partition by revenue_month, level, {{ adapter.quote('window') }} order by revenue desc, entity_id
        ) as rank_desc,
        sum(revenue) over (
            partition by revenue_month, level, {{ adapter.quote('window') }} order by revenue desc, entity_id
            rows between unbounded preceding and current row
        ) as running_revenue,
        sum(revenue) over (partition by revenue_month, level, {{ adapter.quote('window') }}) as window_revenue
    from lorenz
),

-- shares are float quotients of the exact sums (a decimal quotient keeps only 6 decimals on Spark)
ranked as (
    select
        sums.*,
        {{ float_divide('revenue', 'window_revenue') }} as share,
        {{ float_divide('running_revenue', 'window_revenue') }} as cumulative_share
    from sums
),

final as (
    select
        r.revenue_month,
        r.level,
        r.time_window,
        r.entity_id,
        coalesce(a.account_name, r.entity_id) as entity_name,
        a.segment,
        a.customer_type,
        a.tier,
        cast(r.revenue as {{ type_double() }}) as revenue,
        cast(r.rank_desc as integer) as rank_desc,
        cast(r.share as {{ type_double() }}) as share,
        cast(r.cumulative_share as {{ type_double() }}) as cumulative_share,
        cast(r.point as integer) as point,
        cast(r.cumulative_entity_share as {{ type_double() }}) as cumulative_entity_share,
        cast(r.cumulative_revenue_share as {{ type_double() }}) as cumulative_revenue_share
    from ranked as r
    left join accounts as a on a.account_id = r.entity_id
)

select * from final
