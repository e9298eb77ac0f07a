{{ config(materialized='view') }}
-- The current figures of every closed month in the shape and names of
-- mart_revenue_concentration_monthly (one row per closed month × level × window, one column per
-- metric), beside `<metric>_delta` = current - closed (current close version) and is_restated (any
-- metric moved by more than float noise). Join to mart_finance_concentration_monthly_closed on
-- revenue_month, level, "window" for the closed value.
with closed as (
    select * from {{ ref('mart_finance_concentration_monthly_closed') }}
    where is_current
),

current_figures as (
    select * from {{ ref('mart_revenue_concentration_monthly') }}
),

final as (
    select
        c.revenue_month,
        c.level,
        c.{{ adapter.quote('window') }},
        {%- for name, type in finance_metrics() %}
        cast(f.{{ name }} as {{ type }}) as {{ name }},
        {%- endfor %}
        {%- for name, type in finance_metrics() %}
        cast(f.{{ name }} as {{ type_double() }}) - cast(c.{{ name }} as {{ type_double() }}) as {{ name }}_delta,
        {%- endfor %}
        (
            f.revenue_month is null
            {%- for name, type in finance_metrics() %}
            or coalesce(
                abs(cast(f.{{ name }} as {{ type_double() }}) - cast(c.{{ name }} as {{ type_double() }}))
                    > 1e-9 * greatest(1.0, abs(cast(c.{{ name }} as {{ type_double() }}))),
                (f.{{ name }} is null) <> (c.{{ name }} is null))
            {%- endfor %}
        ) as is_restated,
        c.close_version,
        c.as_of_date as closed_as_of_date,
        c.closed_at
    from closed as c
    left join current_figures as f
        on f.revenue_month = c.revenue_month
        and f.level = c.level
        and f.{{ adapter.quote('window') }} = c.{{ adapter.quote('window') }}
)

select * from final
