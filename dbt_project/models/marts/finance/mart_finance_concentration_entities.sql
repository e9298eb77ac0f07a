{{ config(materialized='view') }}
-- Every active account and group of every month and window as the report lists them (current data):
-- name, segment, customer type and tier, revenue, rank (descending), share and cumulative share
-- (the top lists and the Pareto chart), and the Lorenz point (ascending). `kam close` freezes the
-- closed month of this view into finance.concentration_closed_entities. A group is named after its
-- head account (group_id is the head's account_id).
with ranked as (
    select * from {{ ref('int_concentration_ranked') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

-- the positions from int_concentration_ranked's one sort (value asc, entity_id desc; the Lorenz
-- order): the report's order (revenue desc, entity_id asc) is its exact reverse, so
-- rank_desc = n + 1 - rank_asc and the running revenue from the top = total - cumulative_asc + value,
-- exact decimals, no second sort (a re-sort of every entity of every month cost ~7 s of each publish
-- at 2M invoice lines, this view being materialised there)
positions as (
    select
        revenue_month,
        level,
        time_window,
        entity_id,
        value as revenue,
        rank_asc as point,
        active_count + 1 - rank_asc as rank_desc,
        total_value - cumulative_asc + value as running_revenue,
        total_value as window_revenue,
        {{ float_divide('rank_asc', 'active_count') }} as cumulative_entity_share,
        {{ float_divide('cumulative_asc', 'total_value') }} as cumulative_revenue_share
    from ranked
),

-- shares are float quotients of the exact sums (a decimal quotient keeps only 6 decimals on Spark)
shares as (
    select
        positions.*,
        {{ float_divide('revenue', 'window_revenue') }} as share,
        {{ float_divide('running_revenue', 'window_revenue') }} as cumulative_share
    from positions
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
    from shares as r
    left join accounts as a on a.account_id = r.entity_id
)

select * from final
