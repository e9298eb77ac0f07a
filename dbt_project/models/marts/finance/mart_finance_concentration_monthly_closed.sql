{{ config(materialized='view') }}
-- The closed figures in the shape and names of mart_revenue_concentration_monthly: one row per closed
-- month × level × window × close version, one column per metric, plus the close's metadata. BI reads
-- `where is_current` for the figures finance signed.
with closed as (
    select * from {{ ref('mart_finance_concentration_closed_figures') }}
    where figure_set = 'overall' and figure_month = closed_month
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
        {{ finance_wide_metrics() }}
    from closed
    group by closed_month, close_version, level, time_window
),

final as (
    select
        w.closed_month as revenue_month,
        w.level,
        w.time_window as {{ adapter.quote('window') }},
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
