-- Recognised revenue per group (top of the parent chain after merges) and month: member accounts'
-- revenue summed, continuous from the group's first month with revenue > 0 through the as-of month,
-- with movement and trailing-12-month revenue. Grain: group_id × revenue_month.
with account_monthly as (
    select * from {{ ref('int_account_revenue_monthly') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

groups as (
    select account_id, group_id from {{ ref('int_account_groups') }}
),

accounts as (
    select account_id, segment from {{ ref('stg_crm__accounts') }}
),

monthly as (
    select
        coalesce(g.group_id, m.account_id) as group_id,
        m.revenue_month,
        cast(sum(m.revenue) as {{ type_money() }}) as revenue
    from account_monthly as m
    left join groups as g on g.account_id = m.account_id
    group by coalesce(g.group_id, m.account_id), m.revenue_month
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
