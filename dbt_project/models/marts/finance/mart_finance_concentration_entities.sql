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

ranked as (
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
        revenue / sum(revenue) over (partition by revenue_month, level, {{ adapter.quote('window') }}) as share,
        sum(revenue) over (
            partition by revenue_month, level, {{ adapter.quote('window') }} order by revenue desc, entity_id
            rows between unbounded preceding and current row
        ) / sum(revenue) over (partition by revenue_month, level, {{ adapter.quote('window') }}) as cumulative_share
    from lorenz
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
        cast(r.revenue as double precision) as revenue,
        cast(r.rank_desc as integer) as rank_desc,
        cast(r.share as double precision) as share,
        cast(r.cumulative_share as double precision) as cumulative_share,
        cast(r.point as integer) as point,
        cast(r.cumulative_entity_share as double precision) as cumulative_entity_share,
        cast(r.cumulative_revenue_share as double precision) as cumulative_revenue_share
    from ranked as r
    left join accounts as a on a.account_id = r.entity_id
)

select * from final
