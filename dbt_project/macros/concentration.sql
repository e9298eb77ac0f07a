{#- Concentration figures per kam-domain.md "Exact definitions".

    `entity_values` has the partition columns, entity_id and value (a revenue figure); rows with
    value <= 0 are not active and are left out. Emits CTEs concentration_ranked (one row per active
    entity with ranks and running sums, used by the Lorenz curve too) and concentration_summary
    (one row per partition). -#}
{% macro concentration_ctes(entity_values, partition_by) -%}
{%- set p = partition_by | join(', ') -%}
concentration_ranked as (
    select
        {{ p }},
        entity_id,
        value,
        count(*) over (partition by {{ p }}) as active_count,
        sum(value) over (partition by {{ p }}) as total_value,
        row_number() over (partition by {{ p }} order by value desc, entity_id) as rank_desc,
        sum(value) over (
            partition by {{ p }} order by value desc, entity_id rows between unbounded preceding and current row
        ) as cumulative_desc,
        row_number() over (partition by {{ p }} order by value asc, entity_id desc) as rank_asc,
        sum(value) over (
            partition by {{ p }} order by value asc, entity_id desc rows between unbounded preceding and current row
        ) as cumulative_asc
    from {{ entity_values }}
    where value > 0
),

concentration_summary as (
    select
        {{ p }},
        max(active_count) as active_count,
        cast(max(total_value) as {{ type_money() }}) as total_revenue,
        cast(ceil({{ var('concentration_top_share') }} * max(active_count)) as integer) as top_20pct_count,
        -- revenue sums are exact decimals; each ratio is one floating-point division of two of them,
        -- so every engine and every run gives the same bits
        {{ float_divide('sum(case when rank_desc <= ceil(' ~ var('concentration_top_share') ~ ' * active_count) then value else 0 end)', 'max(total_value)') }}
            as top_20pct_share,
        {{ float_divide('sum(case when rank_desc <= ' ~ var('concentration_top_n') ~ ' then value else 0 end)', 'max(total_value)') }} as top_10_share,
        -- smallest k whose top-k revenue reaches 80% (exact decimal comparison)
        min(case when cumulative_desc >= {{ var('concentration_revenue_share') }} * total_value then rank_desc end) as count_for_80pct,
        -- sum of squared percentage shares = 10000 * sum(value^2) / total^2, the squares summed exactly
        10000 * {{ to_double('sum(value * value)') }}
            / ({{ to_double('max(total_value)') }} * {{ to_double('max(total_value)') }}) as hhi,
        case
            when max(active_count) = 1 then cast(0 as {{ type_double() }})
            else {{ to_double('sum((2 * rank_asc - active_count - 1) * value)') }}
                / (max(active_count) * {{ to_double('max(total_value)') }})
        end as gini,
        {{ float_divide('max(value)', 'max(total_value)') }} as max_share,
        max(value) * 10 > max(total_value) as has_account_over_10pct
    from concentration_ranked
    group by {{ p }}
)
{%- endmacro %}

{#- The entity values concentration is computed over: level (account/group) × window (month/t12m). -#}
{% macro concentration_inputs(extra_columns=[]) -%}
{%- set extra = extra_columns | join(', ') -%}
accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

groups as (
    select * from {{ ref('fct_group_revenue_monthly') }}
),

entity_values as (
    select revenue_month, 'account' as level, 'month' as time_window, {% if extra %}{{ extra }}, {% endif %}account_id as entity_id, revenue as value from accounts
    union all
    select revenue_month, 'account', 't12m', {% if extra %}{{ extra }}, {% endif %}account_id, revenue_t12m from accounts
    union all
    select revenue_month, 'group', 'month', {% if extra %}{{ extra }}, {% endif %}group_id, revenue from groups
    union all
    select revenue_month, 'group', 't12m', {% if extra %}{{ extra }}, {% endif %}group_id, revenue_t12m from groups
)
{%- endmacro %}
