{{
    config(
        materialized=replace_by_key_materialization(),
        unique_key='revenue_month',
        incremental_strategy=replace_by_key_strategy(),
        file_format=spark_table_format(),
        on_schema_change='fail',
        pre_hook="{{ delete_stale_keys('revenue_month', concentration_stale_months()) }}"
    )
}}
-- The active entities (revenue > 0) of every month × level (account / group) × window (month / t12m),
-- ranked once in ascending order (value asc, entity_id desc) overall and within their segment, with the
-- partition's count and total and the running sum (macro concentration_ranks). The concentration marts
-- aggregate it (mart_revenue_concentration_monthly, _by_segment) or read it (mart_revenue_lorenz).
-- Grain: revenue_month × level × time_window × entity_id.
-- Incremental by month (macros/incremental_facts.sql): the pre-hook deletes the months whose active
-- entities, values or segments differ from the fact tables' (a t12m value moves for 12 months after a
-- changed month; a merge or re-parenting moves every month of the entities involved); the ranks are
-- recomputed for the months the table then lacks.
with accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

groups as (
    select * from {{ ref('fct_group_revenue_monthly') }}
),

entity_values_all as (
    {{ concentration_entity_values('accounts', 'groups') }}
),

{% if is_incremental() %}
entity_values as (
    select v.*
    from entity_values_all as v
    left join (select distinct revenue_month from {{ this }}) as kept
        on kept.revenue_month = v.revenue_month
    where kept.revenue_month is null
),
{% else %}
entity_values as (
    select * from entity_values_all
),
{% endif %}

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
