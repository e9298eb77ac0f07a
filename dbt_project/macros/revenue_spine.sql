{#- Continuous monthly spine with movement for one entity level (account or group).

    `monthly` has (<entity>, revenue_month, revenue) for months with any recognised revenue;
    `months` is int_calendar_months; `as_of` is int_as_of_date. The spine runs from the entity's first
    month with revenue > 0 to the as-of month, gaps 0. Movement per kam-domain.md "Exact definitions".
    Emits CTEs spine_firsts, spine_rows, spine_final; select from spine_final. -#}
{% macro revenue_spine(monthly, entity, months, as_of) -%}
spine_firsts as (
    select
        {{ entity }},
        min(revenue_month) as first_revenue_month
    from {{ monthly }}
    where revenue > 0
    group by {{ entity }}
),

spine_rows as (
    select
        f.{{ entity }},
        m.revenue_month,
        m.month_index,
        f.first_revenue_month,
        cast(coalesce(r.revenue, 0) as {{ type_money() }}) as revenue
    from spine_firsts as f
    inner join {{ months }} as m
        on m.revenue_month >= f.first_revenue_month
    inner join {{ as_of }} as a
        on m.revenue_month <= a.as_of_month
    left join {{ monthly }} as r
        on r.{{ entity }} = f.{{ entity }}
        and r.revenue_month = m.revenue_month
),

spine_windows as (
    select
        spine_rows.*,
        lag(revenue) over (partition by {{ entity }} order by revenue_month) as previous_revenue,
        cast(sum(revenue) over (
            partition by {{ entity }} order by revenue_month rows between 11 preceding and current row
        ) as {{ type_money() }}) as revenue_t12m
    from spine_rows
),

spine_final as (
    select
        {{ entity }},
        revenue_month,
        month_index,
        first_revenue_month,
        revenue,
        previous_revenue,
        revenue_t12m,
        case
            when revenue_month = first_revenue_month then 'new'
            when previous_revenue > 0 and revenue <= 0 then 'churn'
            when previous_revenue <= 0 and revenue > 0 then 'reactivation'
            when previous_revenue > 0 and revenue > previous_revenue then 'expansion'
            when previous_revenue > 0 and revenue < previous_revenue then 'contraction'
            when previous_revenue > 0 and revenue = previous_revenue then 'flat'
            else 'inactive'
        end as movement
    from spine_windows
)
{%- endmacro %}
