{{ config(materialized='view') }}
-- Lorenz curve points: active entities sorted by revenue ascending; after the i-th, the cumulative
-- share of entities and of revenue. Grain: revenue_month × level × window × point (1..n).
-- A view over the ranks of int_concentration_ranked (no sort of its own; publish materialises it).
with ranked as (
    select * from {{ ref('int_concentration_ranked') }}
),

final as (
    select
        revenue_month,
        level,
        time_window as {{ adapter.quote('window') }},
        rank_asc as point,
        entity_id,
        value as revenue,
        {{ float_divide('rank_asc', 'active_count') }} as cumulative_entity_share,
        {{ float_divide('cumulative_asc', 'total_value') }} as cumulative_revenue_share
    from ranked
)

select * from final
