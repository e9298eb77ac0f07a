with source as (
    select * from {{ source('tiers', 'account_tier_history') }}
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
        is_override,
        valid_to is null as is_current
    from source
)

select * from final
