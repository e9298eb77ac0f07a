{#- CTE fragment resolving a pointer chain (merges: account -> merged_into; hierarchy: account -> parent)
    to its end, with a depth limit and cycle detection instead of an infinite loop.

    `nodes` is a CTE with columns (node_id, next_id); next_id null = the chain ends here.
    Emits CTEs <prefix>_walk, <prefix>_last, <prefix>_cycle_entry, <prefix>_cycle_head and
    <prefix>_resolved(start_id, resolved_id, chain_depth, chain_status, chain_path) where chain_status is
      ok        the chain ends at a node without a next pointer
      cycle     the chain loops; resolved_id = smallest id on the loop (deterministic for all members)
      dangling  the next pointer names an unknown node; resolved_id = the last known node
      too_deep  the depth limit (var hierarchy_max_depth) was hit
    The caller must open the model with `with recursive`. -#}
{% macro resolve_chain(nodes, prefix) -%}
{%- set max_depth = var('hierarchy_max_depth', 20) -%}
{{ prefix }}_walk (start_id, node_id, next_id, depth, path) as (
    select
        node_id,
        node_id,
        next_id,
        0,
        cast('|' || node_id || '|' as {{ dbt.type_string() }})
    from {{ nodes }}
    union all
    select
        w.start_id,
        n.node_id,
        n.next_id,
        w.depth + 1,
        cast(w.path || n.node_id || '|' as {{ dbt.type_string() }})
    from {{ prefix }}_walk as w
    inner join {{ nodes }} as n
        on n.node_id = w.next_id
    where w.depth < {{ max_depth }}
        and {{ dbt.position("'|' || n.node_id || '|'", 'w.path') }} = 0
),

{{ prefix }}_last as (
    select *
    from (
        select
            {{ prefix }}_walk.*,
            row_number() over (partition by start_id order by depth desc) as step_rank
        from {{ prefix }}_walk
    ) as steps
    where step_rank = 1
),

{{ prefix }}_cycle_entry as (
    select
        l.start_id,
        w.depth as entry_depth
    from {{ prefix }}_last as l
    inner join {{ prefix }}_walk as w
        on w.start_id = l.start_id
        and w.node_id = l.next_id
),

{{ prefix }}_cycle_head as (
    select
        ce.start_id,
        min(w.node_id) as head_id
    from {{ prefix }}_cycle_entry as ce
    inner join {{ prefix }}_walk as w
        on w.start_id = ce.start_id
        and w.depth >= ce.entry_depth
    group by ce.start_id
),

{{ prefix }}_resolved as (
    select
        l.start_id,
        coalesce(ch.head_id, l.node_id) as resolved_id,
        l.depth as chain_depth,
        case
            when ch.start_id is not null then 'cycle'
            when l.next_id is null then 'ok'
            when l.depth >= {{ max_depth }} then 'too_deep'
            else 'dangling'
        end as chain_status,
        l.path as chain_path
    from {{ prefix }}_last as l
    left join {{ prefix }}_cycle_head as ch
        on ch.start_id = l.start_id
)
{%- endmacro %}
