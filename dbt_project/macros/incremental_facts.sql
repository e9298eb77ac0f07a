{#- Incremental facts that rebuild what changed, whatever changed it (issue 17).

    The monthly facts are incremental by a key (an account, a group). Rather than reason about causes (a new line, a re-sent invoice, a late FX rate, a merge, a
    re-parented account, the as-of date moving), each run compares the model's current rows with what
    its inputs now say, cheaply (joins and aggregates, no sort), and:
      1. a pre-hook deletes every key whose rows are stale (delete_stale_keys);
      2. the model selects the keys its inputs have and the table lacks (the deleted ones and new ones),
         replaced by key (replace_by_key_strategy).
    A key whose inputs vanished (an account merged away) is deleted and not re-inserted. The hook runs in
    the model's transaction, so a failed run leaves the table as it was; and since the comparison is
    against the table's own rows, a run after any interruption repairs whatever is stale. A full
    refresh builds every key (is_incremental() false: no hook, no filter). -#}

{#- The rows of `rows` (a CTE) whose `key` the table lacks, in an incremental run (after the pre-hook
    deleted the stale keys); every row otherwise. -#}
{% macro rows_of_missing_keys(rows, key) -%}
    {%- if is_incremental() %}
    select r.*
    from {{ rows }} as r
    left join (select distinct {{ key }} from {{ this }}) as kept
        on kept.{{ key }} = r.{{ key }}
    where kept.{{ key }} is null
    {%- else %}
    select * from {{ rows }}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook: delete the rows of every key `stale_keys` returns (a select of one column). -#}
{% macro delete_stale_keys(key, stale_keys) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ key }} in ({{ stale_keys }})
    {%- endif -%}
{%- endmacro %}

{#- Stale entities of a continuous monthly spine (revenue_spine) held in {{ this }}: `monthly` selects
    (<entity>, revenue_month, revenue) from the inputs (months with events), `as_of` is int_as_of_date,
    `attribute_changes` selects the entities whose other columns changed. An entity is stale when
      - an input month with revenue > 0, or at/after its first spine month, differs from (or is missing
        in) its row;
      - a row with revenue other than 0 has no input month (revenue removed);
      - its spine does not end at the as-of month (the as-of month moved);
      - attribute_changes names it. -#}
{% macro spine_stale_keys(entity, monthly, as_of, attribute_changes) -%}
    select m.{{ entity }}
    from ({{ monthly }}) as m
    left join (
        select {{ entity }}, min(revenue_month) as first_month from {{ this }} group by {{ entity }}
    ) as f
        on f.{{ entity }} = m.{{ entity }}
    left join {{ this }} as t
        on t.{{ entity }} = m.{{ entity }}
        and t.revenue_month = m.revenue_month
    where (m.revenue > 0 or m.revenue_month >= f.first_month)
        and (t.revenue is null or t.revenue <> m.revenue)
    union
    select t.{{ entity }}
    from {{ this }} as t
    left join ({{ monthly }}) as m
        on m.{{ entity }} = t.{{ entity }}
        and m.revenue_month = t.revenue_month
    where t.revenue <> 0
        and m.{{ entity }} is null
    union
    select {{ entity }}
    from {{ this }}
    group by {{ entity }}
    having max(revenue_month) <> (select as_of_month from {{ as_of }})
    union
    {{ attribute_changes }}
{%- endmacro %}

{#- Revenue per group and month from the survivor accounts' months (group_id of int_account_groups; an
    account without one is its own group): fct_group_revenue_monthly's input, in the model and in its
    stale-key check. -#}
{% macro group_monthly_revenue() -%}
    select
        coalesce(g.group_id, m.account_id) as group_id,
        m.revenue_month,
        cast(sum(m.revenue) as {{ type_money() }}) as revenue
    from {{ ref('int_account_revenue_monthly') }} as m
    left join {{ ref('int_account_groups') }} as g on g.account_id = m.account_id
    group by coalesce(g.group_id, m.account_id), m.revenue_month
{%- endmacro %}

{#- The stale accounts of fct_account_revenue_monthly (its pre-hook). -#}
{% macro fct_account_stale_keys() -%}
    {{ spine_stale_keys(
        'account_id',
        'select account_id, revenue_month, revenue from ' ~ ref('int_account_revenue_monthly'),
        ref('int_as_of_date'),
        'select t.account_id from ' ~ this ~ ' as t
    left join ' ~ ref('int_account_groups') ~ ' as g on g.account_id = t.account_id
    left join ' ~ ref('stg_crm__accounts') ~ ' as a on a.account_id = t.account_id
    where t.group_id is distinct from g.group_id or t.segment is distinct from a.segment') }}
{%- endmacro %}

{#- The stale groups of fct_group_revenue_monthly (its pre-hook). -#}
{% macro fct_group_stale_keys() -%}
    {{ spine_stale_keys(
        'group_id',
        group_monthly_revenue(),
        ref('int_as_of_date'),
        'select t.group_id from ' ~ this ~ ' as t
    left join ' ~ ref('stg_crm__accounts') ~ ' as a on a.account_id = t.group_id
    left join (select group_id, count(*) as member_accounts from ' ~ ref('int_account_groups') ~ '
        where not is_merged group by group_id) as mc on mc.group_id = t.group_id
    where t.segment is distinct from a.segment or t.member_accounts <> coalesce(mc.member_accounts, 1)') }}
{%- endmacro %}
