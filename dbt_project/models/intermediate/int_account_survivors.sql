-- Each account's survivor: the end of its merged_into_account_id chain (chains followed, cycles and
-- over-deep chains detected). An account that was not merged is its own survivor. Grain: account_id.
with recursive

accounts as (
    select account_id, merged_into_account_id from {{ ref('stg_crm__accounts') }}
),

nodes as (
    select account_id as node_id, merged_into_account_id as next_id from accounts
),

{{ resolve_chain('nodes', 'merge') }},

final as (
    select
        start_id as account_id,
        resolved_id as survivor_account_id,
        start_id <> resolved_id as is_merged,
        chain_depth as merge_depth,
        chain_status as merge_status,
        chain_path as merge_path
    from merge_resolved
)

select * from final
