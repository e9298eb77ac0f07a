{#- The state tables the Python steps own and dbt only reads (the tier state, the month-end close): dbt
    creates them empty so a build works on a new warehouse. Their DDL is rendered from the one
    definition, var kam_state_tables in dbt_project.yml, which kam_warehouse.core.state_tables renders
    the same way for Python (tests/serving/test_serving_close.py holds the two equal).

    state_table_statements(schema): "create schema", then per table its create and one
    `add column if not exists` per `upgrade` column (a column a later release appended), in the order of
    the definition. One statement per hook (Spark runs one statement per hook), so the hooks call
    ensure_state_tables(i) / ensure_finance_tables(i); `dbt run-operation ensure_state_tables` runs all
    of the tier statements. -#}
{% macro state_table_statements(schema) -%}
    {%- set statements = ["create schema if not exists " ~ schema] -%}
    {%- for table, columns in var('kam_state_tables')[schema].items() -%}
        {%- set rendered = [] -%}
        {%- set upgrades = [] -%}
        {%- for spec in columns -%}
            {%- set parts = spec.split(' ', 2) -%}
            {%- set rest = parts[2] if parts | length > 2 else '' -%}
            {%- if rest not in ('', 'not null', 'upgrade') -%}
                {{ exceptions.raise_compiler_error("var kam_state_tables." ~ schema ~ "." ~ table ~ ": column '" ~ spec ~ "' must be 'name type', 'name type not null' or 'name type upgrade'") }}
            {%- endif -%}
            {%- set column = parts[0] ~ ' ' ~ state_column_type(parts[1]) -%}
            {%- do rendered.append(column ~ (' not null' if rest == 'not null' else '')) -%}
            {%- if rest == 'upgrade' -%}{%- do upgrades.append(column) -%}{%- endif -%}
        {%- endfor -%}
        {%- do statements.append("create table if not exists " ~ schema ~ "." ~ table ~ " (" ~ rendered | join(', ') ~ ")") -%}
        {%- for column in upgrades -%}
            {%- do statements.append(state_add_column(schema ~ "." ~ table, column)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{#- A definition type (string, double, integer, boolean, date, timestamp) as this engine's column type. -#}
{% macro state_column_type(kind) -%}
    {%- set types = adapter.dispatch('state_column_types')() -%}
    {%- if kind not in types -%}
        {{ exceptions.raise_compiler_error("var kam_state_tables: unknown column type '" ~ kind ~ "' (allowed: " ~ types.keys() | join(', ') ~ ")") }}
    {%- endif -%}
    {{ return(types[kind]) }}
{%- endmacro %}

{% macro default__state_column_types() -%}
    {{ return({'string': 'varchar', 'double': 'double precision', 'integer': 'integer', 'boolean': 'boolean',
               'date': 'date', 'timestamp': 'timestamp'}) }}
{%- endmacro %}

{#- Spark: no length-less varchar, no `double precision`; DuckDB's and PostgreSQL's `timestamp` (without
    time zone) is Spark's timestamp_ntz, as in the raw Parquet tables. -#}
{% macro spark__state_column_types() -%}
    {{ return({'string': 'string', 'double': 'double', 'integer': 'integer', 'boolean': 'boolean',
               'date': 'date', 'timestamp': 'timestamp_ntz'}) }}
{%- endmacro %}

{% macro state_add_column(table, column) -%}
    {{ return(adapter.dispatch('state_add_column')(table, column)) }}
{%- endmacro %}

{% macro default__state_add_column(table, column) -%}
    {{ return("alter table " ~ table ~ " add column if not exists " ~ column) }}
{%- endmacro %}

{#- Spark has no `add column if not exists`, and no warehouse of an earlier release to upgrade: its
    tables are created with every column, the upgrade statement is empty (dbt skips an empty hook). -#}
{% macro spark__state_add_column(table, column) -%}
    {{ return("") }}
{%- endmacro %}

{#- The tier state (on-run-start hooks ensure_state_tables(0) .. (2)); without an argument, every statement. -#}
{% macro ensure_state_tables(statement=none) -%}
    {%- set statements = state_table_statements('tiers') -%}
    {%- if statement is not none -%}
{{ statements[statement] }}
    {%- else -%}
        {%- for sql in statements %}{% do run_query(sql) %}{% endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The month-end close state (pre-hooks of mart_finance_concentration_closed: ensure_finance_tables(0) .. (5)). -#}
{% macro ensure_finance_tables(statement) -%}
{{ state_table_statements('finance')[statement] }}
{%- endmacro %}
