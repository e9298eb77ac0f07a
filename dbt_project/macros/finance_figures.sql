{#- The concentration metrics a month-end close freezes, with the type each has in
    mart_revenue_concentration_monthly, and the pivot from the long frozen form back to that wide shape.
    Portable SQL (DuckDB, PostgreSQL): max(case ...) per metric, no PIVOT. -#}
{% macro finance_metrics() -%}
{{ return([
    ('active_count', 'bigint'), ('total_revenue', 'double precision'), ('top_20pct_count', 'integer'),
    ('top_20pct_share', 'double precision'), ('top_10_share', 'double precision'), ('count_for_80pct', 'bigint'),
    ('hhi', 'double precision'), ('gini', 'double precision'), ('max_share', 'double precision'),
]) }}
{%- endmacro %}

{#- One column per metric from long rows (metric, value): `cast(max(case when metric = 'm' then value end) as type) as m`. -#}
{% macro finance_wide_metrics(metric_column='metric', value_column='value') -%}
{%- for name, type in finance_metrics() %}
    cast(max(case when {{ metric_column }} = '{{ name }}' then {{ value_column }} end) as {{ type }}) as {{ name }}
    {%- if not loop.last %},{% endif %}
{%- endfor %}
{%- endmacro %}
