{{ config(materialized='view') }}
-- The closed per-segment figures in the shape and names of mart_revenue_concentration_by_segment: one
-- row per closed month × level × window × segment × close version, one column per metric.
with closed as (
    select * from {{ ref('mart_finance_concentration_closed_figures') }}
    where figure_set = 'segment' and figure_month = closed_month
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
        segment,
        {{ finance_wide_metrics() }}
    from closed
    group by closed_month, close_version, level, time_window, segment
),

final as (
    select
        w.closed_month as revenue_month,
        w.level,
        w.time_window as {{ adapter.quote('window') }},
        w.segment,
        {%- for name, type in finance_metrics() %}
        w.{{ name }},
        {%- endfor %}
        w.close_version,
        v.is_current,
        v.as_of_date,
        v.closed_at
    from wide as w
    inner join versions as v on v.closed_month = w.closed_month and v.close_version = w.close_version
)

select * from final
