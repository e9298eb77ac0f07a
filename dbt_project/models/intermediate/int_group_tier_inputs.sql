-- The tier score's raw inputs per GROUP (account_id = group head) as of the as-of date: group revenue
-- (trailing 12 months now and a year earlier, lifetime), pipeline, budget, customer type / reference
-- flags and relationship signals summed over the group's non-merged member accounts. Every group with a
-- member; the mart keeps those with revenue or pipeline. Grain: account_id.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

groups_monthly as (
    select * from {{ ref('fct_group_revenue_monthly') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

members as (
    select g.account_id, g.group_id, a.customer_type, a.is_reference_customer, a.estimated_annual_budget
    from {{ ref('int_account_groups') }} as g
    inner join accounts as a on a.account_id = g.account_id
    where not g.is_merged
),

signals as (
    select * from {{ ref('int_account_signals') }}
),

revenue as (
    select
        g.group_id,
        sum(case when g.month_index = as_of.as_of_month_index then g.revenue_t12m else 0 end) as revenue_t12m,
        sum(case when g.month_index = as_of.as_of_month_index - 12 then g.revenue_t12m else 0 end)
            as revenue_t12m_prior,
        sum(case when g.month_index <= as_of.as_of_month_index then g.revenue else 0 end) as revenue_lifetime
    from groups_monthly as g
    cross join as_of
    group by g.group_id
),

group_signals as (
    select
        m.group_id,
        max(case when m.customer_type in ('important', 'strategic') then 1 else 0 end) as is_strategic_type,
        max(case when m.is_reference_customer then 1 else 0 end) as is_reference_customer,
        cast(sum(m.estimated_annual_budget) as {{ type_money() }}) as estimated_annual_budget,
        cast(sum(s.weighted_pipeline) as {{ type_money() }}) as weighted_pipeline,
        max(s.last_activity_date) as last_activity_date,
        sum(coalesce(s.executive_visits_12m, 0)) as executive_visits_12m,
        sum(coalesce(s.activities_recent, 0)) as activities_recent,
        sum(coalesce(s.dpd_sum_recent, 0) + coalesce(s.dpd_sum_prior, 0)) as dpd_sum_12m,
        sum(coalesce(s.payments_recent, 0) + coalesce(s.payments_prior, 0)) as payments_12m
    from members as m
    left join signals as s on s.account_id = m.account_id
    group by m.group_id
),

final as (
    select
        gs.group_id as account_id,
        coalesce(h.segment, 'default') as segment,
        as_of.as_of_date,
        cast(coalesce(r.revenue_t12m, 0) as {{ type_money() }}) as revenue_t12m,
        cast(coalesce(r.revenue_t12m_prior, 0) as {{ type_money() }}) as revenue_t12m_prior,
        cast(coalesce(r.revenue_lifetime, 0) as {{ type_money() }}) as revenue_lifetime,
        gs.weighted_pipeline,
        gs.estimated_annual_budget,
        gs.is_strategic_type = 1 as is_strategic_type,
        gs.is_reference_customer = 1 as is_reference_customer,
        gs.last_activity_date,
        gs.executive_visits_12m,
        gs.activities_recent,
        gs.dpd_sum_12m,
        gs.payments_12m
    from group_signals as gs
    cross join as_of
    left join revenue as r on r.group_id = gs.group_id
    left join accounts as h on h.account_id = gs.group_id
)

select * from final
