{#- Tier state owned by the Python tier step (kam_warehouse.tiers). dbt only reads it, but creates it
    empty so a build works on a new warehouse. The tier step uses identical DDL.
    One statement per call (Spark runs one statement per hook): the on-run-start hooks call
    ensure_state_tables(0), (1), (2); `dbt run-operation ensure_state_tables` runs them all. -#}
{% macro ensure_state_tables(statement=none) -%}
{%- set statements = [
    "create schema if not exists tiers",
    "create table if not exists tiers.account_tier_history (
    account_id  " ~ dbt.type_string() ~ " not null,
    tier        " ~ dbt.type_string() ~ " not null,
    valid_from  date    not null,
    valid_to    date,
    score       " ~ type_double() ~ ",
    reason      " ~ dbt.type_string() ~ ",
    run_id      " ~ dbt.type_string() ~ ",
    is_override boolean
)",
    "create table if not exists tiers.tier_overrides (
    account_id " ~ dbt.type_string() ~ " not null,
    tier       " ~ dbt.type_string() ~ " not null,
    reason     " ~ dbt.type_string() ~ ",
    set_by     " ~ dbt.type_string() ~ ",
    expires_on date
)",
] -%}
{%- if statement is not none -%}
{{ statements[statement] }}
{%- else -%}
{%- for sql in statements %}{% do run_query(sql) %}{% endfor -%}
{%- endif -%}
{%- endmacro %}
