{#- Tier state owned by the Python tier step (kam_warehouse.tiers). dbt only reads it, but creates it
    empty so a build works on a new warehouse. The tier step uses identical DDL. -#}
{% macro ensure_state_tables() -%}
create schema if not exists tiers;
create table if not exists tiers.account_tier_history (
    account_id  varchar not null,
    tier        varchar not null,
    valid_from  date    not null,
    valid_to    date,
    score       double,
    reason      varchar,
    run_id      varchar,
    is_override boolean
);
create table if not exists tiers.tier_overrides (
    account_id varchar not null,
    tier       varchar not null,
    reason     varchar,
    set_by     varchar,
    expires_on date
)
{%- endmacro %}
