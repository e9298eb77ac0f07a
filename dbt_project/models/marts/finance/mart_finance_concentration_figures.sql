{{ config(materialized='view') }}
-- The current concentration figures in the long form finance freezes at close: one row per month,
-- figure set (overall / per segment), level, window, segment and metric. `kam close` copies the closed
-- month (and the two comparison months the report shows beside it) of this view into
-- finance.concentration_closed; restatements compare the two.
{%- set metrics = finance_metrics() | map('first') | list %}
with overall as (
    select revenue_month, 'overall' as figure_set, level, {{ adapter.quote('window') }} as time_window,
        'all' as segment, {{ metrics | join(', ') }}
    from {{ ref('mart_revenue_concentration_monthly') }}
),

by_segment as (
    select revenue_month, 'segment' as figure_set, level, {{ adapter.quote('window') }} as time_window,
        segment, {{ metrics | join(', ') }}
    from {{ ref('mart_revenue_concentration_by_segment') }}
),

figures as (
    select * from overall
    union all
    select * from by_segment
),

final as (
    {%- for metric in metrics %}
    select revenue_month, figure_set, level, time_window, segment, '{{ metric }}' as metric,
        cast({{ metric }} as {{ type_double() }}) as value
    from figures
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
