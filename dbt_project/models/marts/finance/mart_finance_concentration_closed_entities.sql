{{ config(materialized='view') }}
-- depends_on: {{ ref('mart_finance_concentration_closed') }} (its pre-hook creates the finance tables)
-- The accounts and groups of each closed month as frozen by `kam close` (every close version): the top
-- lists, the Lorenz curve and the Pareto chart of a closed month's report, unchanged by later data.
with closed as (
    select * from {{ source('finance', 'concentration_closed_entities') }}
),

final as (
    select
        closed_month,
        close_version,
        is_current,
        level,
        time_window,
        entity_id,
        entity_name,
        segment,
        customer_type,
        tier,
        revenue,
        rank_desc,
        share,
        cumulative_share,
        point,
        cumulative_entity_share,
        cumulative_revenue_share
    from closed
)

select * from final
