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

{#- int_concentration_ranked's partitions (month × level × window), each with its entity count and an
    order-independent hash of its (entity_id, segment, value) rows: equal prints, equal ranks. `rows` is a
    select with those columns. DuckDB only (its hash(); the other engines rebuild the table). -#}
{% macro concentration_partition_prints(rows) -%}
    select
        revenue_month,
        level,
        time_window,
        count(*) as entities,
        sum(cast(hash(entity_id, segment, value) as hugeint)) as print
    from ({{ rows }}) as r
    group by revenue_month, level, time_window
{%- endmacro %}

{#- Pre-hook of int_concentration_ranked (incremental runs): delete every partition whose print differs
    from the facts' entity values now, or that the facts no longer have. -#}
{% macro delete_stale_concentration_partitions() -%}
    {%- if is_incremental() -%}
    {%- set current -%}
        select * from ({{ concentration_entity_values(ref('fct_account_revenue_monthly'), ref('fct_group_revenue_monthly')) }}) as e where value > 0
    {%- endset -%}
    delete from {{ this }} as t
    using (
        select
            coalesce(n.revenue_month, k.revenue_month) as revenue_month,
            coalesce(n.level, k.level) as level,
            coalesce(n.time_window, k.time_window) as time_window
        from ({{ concentration_partition_prints(current) }}) as n
        full join ({{ concentration_partition_prints('select revenue_month, level, time_window, segment, entity_id, value from ' ~ this) }}) as k
            on k.revenue_month = n.revenue_month
            and k.level = n.level
            and k.time_window = n.time_window
        where n.print is distinct from k.print
            or n.entities is distinct from k.entities
    ) as stale
    where stale.revenue_month = t.revenue_month
        and stale.level = t.level
        and stale.time_window = t.time_window
    {%- endif -%}
{%- endmacro %}
