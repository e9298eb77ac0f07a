-- The active entities (revenue > 0) of every month × level (account / group) × window (month / t12m),
-- ranked once in ascending order (value asc, entity_id desc) overall and within their segment, with the
-- partition's count and total and the running sum (macro concentration_ranks). The concentration marts
-- aggregate it (mart_revenue_concentration_monthly, _by_segment) or read it (mart_revenue_lorenz).
-- Grain: revenue_month × level × time_window × entity_id.
-- A table rebuilt each night, not incremental by month: a real night moves nearly every month (each
-- delta day re-parents accounts, which moves their groups' revenue in every month, and a late invoice
-- moves the t12m values of the 11 months after its own), so a keyed rebuild compared and replaced
-- almost all of it and cost 3x the plain sort (63.8 s vs 21.6 s at 10.6M lines, docs/operations.md).
with accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

groups as (
    select * from {{ ref('fct_group_revenue_monthly') }}
),

entity_values as (
    {{ concentration_entity_values('accounts', 'groups') }}
),

final as (
    select
        revenue_month,
        level,
        time_window,
        segment,
        entity_id,
        value,
{{ concentration_ranks(['revenue_month', 'level', 'time_window']) }},
{{ concentration_ranks(['revenue_month', 'level', 'time_window', 'segment'], 'segment_') }}
    from entity_values
    where value > 0
)

select * from final
