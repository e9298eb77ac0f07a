{#- The concentration metrics a month-end close freezes, with the type each has in
    mart_revenue_concentration_monthly, and the pivot from the long frozen form back to that wide shape.
    Portable SQL (DuckDB, PostgreSQL, Spark): max(case ...) per metric, no PIVOT. -#}
{% macro finance_metrics() -%}
{{ return([
    ('active_count', 'bigint'), ('total_revenue', type_double()), ('top_20pct_count', 'integer'),
    ('top_20pct_share', type_double()), ('top_10_share', type_double()), ('count_for_80pct', 'bigint'),
    ('hhi', type_double()), ('gini', type_double()), ('max_share', type_double()),
]) }}
{%- endmacro %}

{#- One column per metric from long rows (metric, value): `cast(max(case when metric = 'm' then value end) as type) as m`. -#}
{% macro finance_wide_metrics(metric_column='metric', value_column='value') -%}
{%- for name, type in finance_metrics() %}
    cast(max(case when {{ metric_column }} = '{{ name }}' then {{ value_column }} end) as {{ type }}) as {{ name }}
    {%- if not loop.last %},{% endif %}
{%- endfor %}
{%- endmacro %}

{#- The frozen figures of `figure_set` ('overall' / 'segment') in the wide shape of the main marts: one
    row per closed month × level × window [× extra keys] × close version, one column per metric, plus
    the close's metadata. The body of mart_finance_concentration_monthly_closed / _by_segment_closed. -#}
{% macro finance_closed_wide(figure_set, keys=[]) -%}
{%- set extra = keys | join(', ') -%}
with closed as (
    select * from {{ ref('mart_finance_concentration_closed_figures') }}
    where figure_set = '{{ figure_set }}' and figure_month = closed_month
),

versions as (
    select * from {{ ref('mart_finance_close_versions') }}
),

wide as (
    select
        closed_month,
        close_version,
        level,
        time_window,
        {% if extra %}{{ extra }},{% endif %}
        {{ finance_wide_metrics() }}
    from closed
    group by closed_month, close_version, level, time_window{% if extra %}, {{ extra }}{% endif %}
),

final as (
    select
        w.closed_month as revenue_month,
        w.level,
        w.time_window as {{ adapter.quote('window') }},
        {%- for key in keys %}
        w.{{ key }},
        {%- endfor %}
        {%- for name, type in finance_metrics() %}
        w.{{ name }},
        {%- endfor %}
        w.close_version,
        v.is_current,
        v.as_of_date,
        v.closed_at,
        v.closed_by,
        v.close_reason
    from wide as w
    inner join versions as v on v.closed_month = w.closed_month and v.close_version = w.close_version
)

select * from final
{%- endmacro %}
