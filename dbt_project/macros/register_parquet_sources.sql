{#- Spark: register every source table of schema `raw` as a table over Parquet files
    <root>/<identifier>/ (one folder per raw table, as exported from the DuckDB build warehouse), so the
    project reads them like any other adapter's raw schema. Run once per Spark session:
        dbt run-operation register_parquet_sources --args '{root: /path/to/raw-parquet}' --target spark
    Other adapters have their raw tables already; the operation refuses to run there. -#}
{% macro register_parquet_sources(root, schema='raw') -%}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("register_parquet_sources is for the spark target (this is " ~ target.type ~ ")") }}
    {%- endif -%}
    {%- do run_query('create database if not exists ' ~ schema) -%}
    {%- set seen = [] -%}
    {%- for source in graph.sources.values() if source.schema == schema and source.identifier not in seen -%}
        {%- do seen.append(source.identifier) -%}
        {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ source.identifier) -%}
        {%- do run_query('create table ' ~ schema ~ '.' ~ source.identifier ~ " using parquet location '"
                         ~ root ~ '/' ~ source.identifier ~ "'") -%}
    {%- endfor -%}
    {{ log('registered ' ~ seen | length ~ ' Parquet tables in schema ' ~ schema, info=true) }}
{%- endmacro %}
