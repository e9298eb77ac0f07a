-- Each account's group: the top of the parent_account_id chain after merges (parents resolved to
-- their survivors), by a recursive walk with a depth limit; cycles are detected, not looped.
-- A merged account belongs to its survivor's group. Grain: account_id.
with recursive

accounts as (
    select account_id, parent_account_id from {{ ref('stg_crm__accounts') }}
),

survivors as (
    select * from {{ ref('int_account_survivors') }}
),

nodes as (
    select
        a.account_id as node_id,
        case when ps.survivor_account_id = a.account_id then null else ps.survivor_account_id end as next_id
    from accounts as a
    inner join survivors as s
        on s.account_id = a.account_id
        and not s.is_merged
    left join survivors as ps
        on ps.account_id = a.parent_account_id
),

{{ resolve_chain('nodes', 'parent') }},

final as (
    select
        s.account_id,
        s.survivor_account_id,
        s.is_merged,
        s.merge_status,
        p.resolved_id as group_id,
        p.chain_depth as hierarchy_depth,
        p.chain_status as hierarchy_status,
        p.chain_path as hierarchy_path
    from survivors as s
    inner join parent_resolved as p
        on p.start_id = s.survivor_account_id
)

select * from final
