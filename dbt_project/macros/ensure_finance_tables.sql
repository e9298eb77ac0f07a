{#- Month-end close state owned by `kam close` (kam_warehouse.serving.finance_state): dbt only reads it,
    but creates it empty so a build works on a new warehouse. The default DDL is the Python FINANCE_DDL
    statement for statement (tests/serving hold the tables equal); the ALTERs upgrade a warehouse closed
    by an earlier release. One statement per call (Spark runs one statement per hook): the pre-hooks of
    mart_finance_concentration_closed call ensure_finance_tables(0) .. (5). -#}
{% macro ensure_finance_tables(statement) -%}
    {{ return(adapter.dispatch('ensure_finance_tables')(statement)) }}
{%- endmacro %}

{% macro finance_table_ddl(text, float, ts='timestamp', upgraded_columns='') -%}
{{ return([
    "create schema if not exists finance",
    "create table if not exists finance.concentration_closed (
            closed_month date not null, figure_set " ~ text ~ " not null, level " ~ text ~ " not null,
            time_window " ~ text ~ " not null, segment " ~ text ~ " not null, metric " ~ text ~ " not null, value " ~ float ~ ",
            close_version integer not null, is_current boolean not null, as_of_date date not null,
            closed_at " ~ ts ~ " not null, closed_by_run_id " ~ text ~ " not null, close_reason " ~ text ~ upgraded_columns ~ ")",
    "alter table finance.concentration_closed add column if not exists figure_month date",
    "alter table finance.concentration_closed add column if not exists closed_by " ~ text,
    "create table if not exists finance.concentration_closed_entities (
            closed_month date not null, close_version integer not null, is_current boolean not null,
            level " ~ text ~ " not null, time_window " ~ text ~ " not null, entity_id " ~ text ~ " not null,
            entity_name " ~ text ~ ", segment " ~ text ~ ", customer_type " ~ text ~ ", tier " ~ text ~ ", revenue " ~ float ~ ",
            rank_desc integer not null, share " ~ float ~ ", cumulative_share " ~ float ~ ", point integer not null,
            cumulative_entity_share " ~ float ~ ", cumulative_revenue_share " ~ float ~ ")",
    "create table if not exists finance.close_log (
            closed_month date not null, close_version integer, action " ~ text ~ " not null,
            run_id " ~ text ~ " not null, logged_at " ~ ts ~ " not null, figures integer, reason " ~ text ~ ")",
]) }}
{%- endmacro %}

{% macro default__ensure_finance_tables(statement) -%}
{{ finance_table_ddl('varchar', 'double precision')[statement] }}
{%- endmacro %}

{#- Spark: no length-less varchar, no `double precision`, no `add column if not exists`; DuckDB's and
    PostgreSQL's `timestamp` (without time zone) is Spark's timestamp_ntz, as in the raw Parquet tables.
    A Spark warehouse has no tables of an earlier release, so the table is created with every column
    and the two upgrade statements are empty (dbt skips an empty hook). -#}
{% macro spark__ensure_finance_tables(statement) -%}
{%- if statement in (2, 3) -%}
{%- else -%}
{{ finance_table_ddl('string', 'double', 'timestamp_ntz', ', figure_month date, closed_by string')[statement] }}
{%- endif -%}
{%- endmacro %}
