{#- Concentration figures per kam-domain.md "Exact definitions", in two steps so the sort happens once:

    1. concentration_ranks(partition_by, prefix): window columns over the active entities (value > 0) of
       each partition, sorted ascending (value asc, entity_id desc): <prefix>active_count,
       <prefix>total_value, <prefix>rank_asc, <prefix>cumulative_asc (money type on every engine: the
       sums of money are exact). int_concentration_ranked keeps
       them for month × level × window (and with prefix segment_ within each segment).
    2. concentration_summary(ranked, partition_by, prefix): one row per partition from those columns.
       The descending order is the exact reverse of the ascending one (value desc, entity_id asc), so
       rank_desc = n + 1 - rank_asc and the cumulative sum from the top is
       total - cumulative_asc + value: exact decimals, no second sort. -#}
{% macro concentration_ranks(partition_by, prefix='') -%}
{%- set p = partition_by | join(', ') -%}
        count(*) over (partition by {{ p }}) as {{ prefix }}active_count,
        cast(sum(value) over (partition by {{ p }}) as {{ type_money() }}) as {{ prefix }}total_value,
        row_number() over (partition by {{ p }} order by value asc, entity_id desc) as {{ prefix }}rank_asc,
        cast(sum(value) over (
            partition by {{ p }} order by value asc, entity_id desc rows between unbounded preceding and current row
        ) as {{ type_money() }}) as {{ prefix }}cumulative_asc
{%- endmacro %}

{% macro concentration_summary(ranked, partition_by, prefix='') -%}
{%- set p = partition_by | join(', ') -%}
{%- set n = prefix ~ 'active_count' -%}
{%- set total = prefix ~ 'total_value' -%}
{%- set rank_desc = '(' ~ n ~ ' + 1 - ' ~ prefix ~ 'rank_asc)' -%}
{%- set cumulative_desc = '(' ~ total ~ ' - ' ~ prefix ~ 'cumulative_asc + value)' -%}
    select
        {{ p }},
        max({{ n }}) as active_count,
        cast(max({{ total }}) as {{ type_money() }}) as total_revenue,
        cast(ceil({{ var('concentration_top_share') }} * max({{ n }})) as integer) as top_20pct_count,
        -- revenue sums are exact decimals; each ratio is one floating-point division of two of them,
        -- so every engine and every run gives the same bits
        {{ float_divide('sum(case when ' ~ rank_desc ~ ' <= ceil(' ~ var('concentration_top_share') ~ ' * ' ~ n ~ ') then value else 0 end)', 'max(' ~ total ~ ')') }}
            as top_20pct_share,
        {{ float_divide('sum(case when ' ~ rank_desc ~ ' <= ' ~ var('concentration_top_n') ~ ' then value else 0 end)', 'max(' ~ total ~ ')') }} as top_10_share,
        -- smallest k whose top-k revenue reaches 80% (exact decimal comparison)
        min(case when {{ cumulative_desc }} >= {{ var('concentration_revenue_share') }} * {{ total }} then {{ rank_desc }} end) as count_for_80pct,
        -- sum of squared percentage shares = 10000 * sum(value^2) / total^2, the squares summed exactly
        10000 * {{ to_double('sum(value * value)') }}
            / ({{ to_double('max(' ~ total ~ ')') }} * {{ to_double('max(' ~ total ~ ')') }}) as hhi,
        case
            when max({{ n }}) = 1 then cast(0 as {{ type_double() }})
            else {{ to_double('sum((2 * ' ~ prefix ~ 'rank_asc - ' ~ n ~ ' - 1) * value)') }}
                / (max({{ n }}) * {{ to_double('max(' ~ total ~ ')') }})
        end as gini,
        {{ float_divide('max(value)', 'max(' ~ total ~ ')') }} as max_share,
        max(value) * 10 > max({{ total }}) as has_account_over_10pct
    from {{ ranked }}
    group by {{ p }}
{%- endmacro %}

{#- The entity values concentration is computed over: level (account/group) × window (month/t12m),
    with the entity's segment (a group takes its head's; none -> unknown). From the fact tables
    `accounts` and `groups` (relations or CTE names). -#}
{% macro concentration_entity_values(accounts, groups) -%}
    select revenue_month, 'account' as level, 'month' as time_window, coalesce(segment, 'unknown') as segment, account_id as entity_id, revenue as value from {{ accounts }}
    union all
    select revenue_month, 'account', 't12m', coalesce(segment, 'unknown'), account_id, revenue_t12m from {{ accounts }}
    union all
    select revenue_month, 'group', 'month', coalesce(segment, 'unknown'), group_id, revenue from {{ groups }}
    union all
    select revenue_month, 'group', 't12m', coalesce(segment, 'unknown'), group_id, revenue_t12m from {{ groups }}
{%- endmacro %}
