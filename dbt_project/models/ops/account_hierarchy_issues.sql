-- Accounts whose merge or parent chain could not be resolved cleanly: cycles, pointers to unknown
-- accounts, chains deeper than var('hierarchy_max_depth'). Empty when the CRM hierarchy is sound.
with groups as (
    select * from {{ ref('int_account_groups') }}
),

survivors as (
    select * from {{ ref('int_account_survivors') }}
),

issues as (
    select account_id, 'merge' as chain, merge_status as status, merge_path as chain_path,
        survivor_account_id as resolved_to
    from survivors
    where merge_status <> 'ok'
    union all
    select account_id, 'parent', hierarchy_status, hierarchy_path, group_id
    from groups
    where hierarchy_status <> 'ok' and not is_merged
),

final as (
    select * from issues
)

select * from final
