{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_stale_concentration_partitions() }}",
) }}
-- The active entities (revenue > 0) of every month × level (account / group) × window (month / t12m),
-- ranked once in ascending order (value asc, entity_id desc) overall and within their segment, with the
-- partition's count and total and the running sum (macro concentration_ranks). The concentration marts
-- aggregate it (mart_revenue_concentration_monthly, _by_segment) or read it (mart_revenue_lorenz).
-- Grain: revenue_month × level × time_window × entity_id.
-- Incremental by partition (month × level × window) on DuckDB: the pre-hook deletes each partition whose
-- entities, segments or values differ from the facts' (an order-independent hash per partition, macro
-- delete_stale_concentration_partitions), and only the partitions the table then lacks are ranked. A
-- delta day moves the account level of a few recent months (a late invoice: the 11 t12m months after
-- it too) and, when it re-parents an account, the group level of every month: at 10.6M lines about half
-- the rows are ranked again (15.0-17.6 s against 21.9 s for the full rank, one delta night's change
-- replayed on a copy under load). PostgreSQL and Spark rebuild the table each run (same rows).
-- ranked_at: when the run that ranked the partition started (dbt's run_started_at, UTC): a narrow night
-- tests only the partitions ranked since the last build that passed the gate finished
-- (meta.test_scope.ranked_partitions, here and on the marts over these ranks; macros/tests/test_scope.sql). A partition kept from a build before
-- the column existed has none (null: ranked, and tested, before it; on_schema_change adds the column).
with accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

groups as (
    select * from {{ ref('fct_group_revenue_monthly') }}
),

entity_values as (
    {{ concentration_entity_values('accounts', 'groups') }}
),

{%- if is_incremental() %}

-- the partitions the pre-hook kept are current
kept_partitions as (
    select distinct revenue_month, level, time_window from {{ this }}
),
{%- endif %}

active as (
    select e.*
    from entity_values as e
    {%- if is_incremental() %}
    left join kept_partitions as k
        on k.revenue_month = e.revenue_month
        and k.level = e.level
        and k.time_window = e.time_window
    where k.level is null
        and e.value > 0
    {%- else %}
    where e.value > 0
    {%- endif %}
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
{{ concentration_ranks(['revenue_month', 'level', 'time_window', 'segment'], 'segment_') }},
        {{ run_started_timestamp() }} as ranked_at
    from active
)

select * from final
