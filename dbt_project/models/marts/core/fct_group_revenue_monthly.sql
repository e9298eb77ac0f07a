{{ replace_by_key_config('group_id', pre_hook="{{ delete_stale_keys('group_id', fct_group_stale_keys()) }}") }}
-- Recognised revenue per group (top of the parent chain after merges) and month: member accounts'
-- revenue summed, continuous from the group's first month with revenue > 0 through the as-of month,
-- with movement and trailing-12-month revenue. Grain: group_id × revenue_month.
-- Incremental by group (macros/incremental_facts.sql): the pre-hook deletes the groups whose rows no
-- longer match their members' months (a merge or a re-parented account moves revenue between groups),
-- their head's segment, member count or the as-of month; the spine is rebuilt for the groups the table
-- then lacks.
-- depends_on: {{ ref('int_account_revenue_monthly') }}
with monthly_all as (
    {{ group_monthly_revenue() }}
),

monthly as (
    {{ rows_of_missing_keys('monthly_all', 'group_id') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

accounts as (
    select account_id, segment from {{ ref('stg_crm__accounts') }}
),

member_counts as (
    select group_id, count(*) as member_accounts
    from {{ ref('int_account_groups') }}
    where not is_merged
    group by group_id
),

{{ revenue_spine('monthly', 'group_id', 'months', 'as_of') }},

final as (
    select
        s.group_id,
        s.revenue_month,
        a.segment,
        coalesce(mc.member_accounts, 1) as member_accounts,
        s.revenue,
        s.previous_revenue,
        s.movement,
        s.revenue_t12m,
        s.first_revenue_month,
        s.month_index
    from spine_final as s
    left join accounts as a on a.account_id = s.group_id
    left join member_counts as mc on mc.group_id = s.group_id
)

select * from final
