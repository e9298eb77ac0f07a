{{ config(materialized='view') }}
-- Tier history per group head as kept by the tier step (tiers.account_tier_history), for the serving DB.
with history as (
    select * from {{ ref('stg_tiers__account_tier_history') }}
),

final as (
    select
        account_id,
        tier,
        valid_from,
        valid_to,
        score,
        reason,
        run_id,
        is_override
    from history
)

select * from final
