-- Composite tier score per GROUP (the tier unit; account_id = group head id), as of the as-of date.
-- Dimensions (each 0-100, null when its input is missing):
--   revenue       percentile (cume_dist) of trailing-12-month group revenue; 0 without revenue
--   potential     mean of the available components: YoY growth percentile, weighted open pipeline
--                 percentile, share-of-wallet headroom percentile (budget - revenue; 0 when none left)
--   strategic     60 when a member is customer_type important/strategic, + 40 when a reference customer
--   relationship  mean of the available components: activity (20 per executive visit in 12 months +
--                 5 per recent activity, capped at 100) and payment (100 - 2 x average days past due)
-- Weights (seed tier_weights) of missing dimensions are dropped and the rest re-normalised to sum 1.
-- Thresholds per segment (seed tier_thresholds) map the score to proposed_tier. Rows: every group with
-- revenue in the last 12 months, plus groups with open pipeline. Grain: account_id.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

groups_monthly as (
    select * from {{ ref('fct_group_revenue_monthly') }}
),

members as (
    select g.account_id, g.group_id, a.customer_type, a.is_reference_customer, a.estimated_annual_budget
    from {{ ref('int_account_groups') }} as g
    inner join {{ ref('stg_crm__accounts') }} as a on a.account_id = g.account_id
    where not g.is_merged
),

heads as (
    select account_id, coalesce(segment, 'default') as segment
    from {{ ref('stg_crm__accounts') }}
),

signals as (
    select * from {{ ref('int_account_signals') }}
),

weights as (
    select * from {{ ref('tier_weights') }}
),

thresholds as (
    select * from {{ ref('tier_thresholds') }}
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
        max(case when m.is_reference_customer then 1 else 0 end) as is_reference,
        sum(m.estimated_annual_budget) as estimated_annual_budget,
        sum(s.weighted_pipeline) as weighted_pipeline,
        sum(coalesce(s.open_opportunities, 0)) as open_opportunities,
        max(s.last_activity_date) as last_activity_date,
        sum(coalesce(s.executive_visits_12m, 0)) as executive_visits_12m,
        sum(coalesce(s.activities_recent, 0)) as activities_recent,
        sum(coalesce(s.dpd_sum_recent, 0) + coalesce(s.dpd_sum_prior, 0)) as dpd_sum_12m,
        sum(coalesce(s.payments_recent, 0) + coalesce(s.payments_prior, 0)) as payments_12m
    from members as m
    left join signals as s on s.account_id = m.account_id
    group by m.group_id
),

scored_groups as (
    select
        gs.group_id as account_id,
        coalesce(h.segment, 'default') as segment,
        as_of.as_of_date,
        coalesce(r.revenue_t12m, 0) as revenue_t12m,
        case when r.revenue_t12m_prior > 0 then r.revenue_t12m / r.revenue_t12m_prior - 1 end as growth_yoy,
        gs.weighted_pipeline,
        case when gs.estimated_annual_budget is not null
            then gs.estimated_annual_budget - coalesce(r.revenue_t12m, 0) end as wallet_headroom,
        coalesce(r.revenue_lifetime, 0) as revenue_lifetime,
        gs.is_strategic_type,
        gs.is_reference,
        gs.last_activity_date,
        gs.executive_visits_12m,
        gs.activities_recent,
        case when gs.payments_12m > 0 then cast(gs.dpd_sum_12m as double) / gs.payments_12m end as avg_days_past_due_12m
    from group_signals as gs
    cross join as_of
    left join revenue as r on r.group_id = gs.group_id
    left join heads as h on h.account_id = gs.group_id
    where coalesce(r.revenue_t12m, 0) > 0 or coalesce(gs.weighted_pipeline, 0) > 0
),

components as (
    select
        scored_groups.*,
        case when revenue_t12m > 0 then 100 * cume_dist() over (
            partition by revenue_t12m > 0 order by revenue_t12m) else 0 end as revenue_score,
        case when growth_yoy is not null then 100 * cume_dist() over (
            partition by growth_yoy is not null order by growth_yoy) end as growth_component,
        case
            when weighted_pipeline > 0 then 100 * cume_dist() over (
                partition by weighted_pipeline > 0 order by weighted_pipeline)
            when weighted_pipeline is not null then 0
        end as pipeline_component,
        case
            when wallet_headroom > 0 then 100 * cume_dist() over (
                partition by wallet_headroom > 0 order by wallet_headroom)
            when wallet_headroom is not null then 0
        end as headroom_component,
        case when last_activity_date is not null
            then least(100, 20 * executive_visits_12m + 5 * activities_recent) end as activity_component,
        case when avg_days_past_due_12m is not null
            then greatest(0, least(100, 100 - 2 * avg_days_past_due_12m)) end as payment_component
    from scored_groups
),

dimensions as (
    select
        components.*,
        (coalesce(growth_component, 0) + coalesce(pipeline_component, 0) + coalesce(headroom_component, 0))
            / nullif(
                case when growth_component is null then 0 else 1 end
                + case when pipeline_component is null then 0 else 1 end
                + case when headroom_component is null then 0 else 1 end, 0) as potential_score,
        cast(60 * is_strategic_type + 40 * is_reference as double) as strategic_score,
        (coalesce(activity_component, 0) + coalesce(payment_component, 0))
            / nullif(
                case when activity_component is null then 0 else 1 end
                + case when payment_component is null then 0 else 1 end, 0) as relationship_score
    from components
),

weighted as (
    select
        d.*,
        coalesce(sw.w_revenue, dw.w_revenue) * case when d.revenue_score is null then 0 else 1 end as raw_w_revenue,
        coalesce(sw.w_potential, dw.w_potential) * case when d.potential_score is null then 0 else 1 end
            as raw_w_potential,
        coalesce(sw.w_strategic, dw.w_strategic) * case when d.strategic_score is null then 0 else 1 end
            as raw_w_strategic,
        coalesce(sw.w_relationship, dw.w_relationship) * case when d.relationship_score is null then 0 else 1 end
            as raw_w_relationship,
        coalesce(st.threshold_strategic, dt.threshold_strategic) as threshold_strategic,
        coalesce(st.threshold_key, dt.threshold_key) as threshold_key,
        coalesce(st.threshold_standard, dt.threshold_standard) as threshold_standard,
        concat_ws(',',
            case when d.revenue_score is null then 'revenue' end,
            case when d.potential_score is null then 'potential' end,
            case when d.strategic_score is null then 'strategic' end,
            case when d.relationship_score is null then 'relationship' end) as missing_inputs
    from dimensions as d
    left join weights as sw on sw.segment = d.segment
    cross join (select * from weights where segment = 'default') as dw
    left join thresholds as st on st.segment = d.segment
    cross join (select * from thresholds where segment = 'default') as dt
),

normalised as (
    select
        weighted.*,
        raw_w_revenue / (raw_w_revenue + raw_w_potential + raw_w_strategic + raw_w_relationship) as w_revenue,
        raw_w_potential / (raw_w_revenue + raw_w_potential + raw_w_strategic + raw_w_relationship) as w_potential,
        raw_w_strategic / (raw_w_revenue + raw_w_potential + raw_w_strategic + raw_w_relationship) as w_strategic,
        raw_w_relationship / (raw_w_revenue + raw_w_potential + raw_w_strategic + raw_w_relationship)
            as w_relationship
    from weighted
),

scored as (
    select
        normalised.*,
        missing_inputs <> '' as is_renormalised,
        w_revenue * coalesce(revenue_score, 0) + w_potential * coalesce(potential_score, 0)
            + w_strategic * coalesce(strategic_score, 0) + w_relationship * coalesce(relationship_score, 0)
            as score,
        case
            when revenue_score >= {{ var('box_high_cutoff') }} then 'high'
            when revenue_score >= {{ var('box_mid_cutoff') }} then 'mid'
            else 'low'
        end as contribution_band,
        case
            when potential_score >= {{ var('box_high_cutoff') }} then 'high'
            when potential_score >= {{ var('box_mid_cutoff') }} then 'mid'
            else 'low'
        end as potential_band
    from normalised
),

final as (
    select
        account_id,
        segment,
        as_of_date,
        revenue_t12m,
        growth_yoy,
        weighted_pipeline,
        wallet_headroom,
        revenue_score,
        potential_score,
        strategic_score,
        relationship_score,
        w_revenue,
        w_potential,
        w_strategic,
        w_relationship,
        missing_inputs,
        is_renormalised,
        score,
        threshold_strategic,
        threshold_key,
        threshold_standard,
        case
            when score >= threshold_strategic then 'strategic'
            when score >= threshold_key then 'key'
            when score >= threshold_standard then 'standard'
            else 'other'
        end as proposed_tier,
        contribution_band || '/' || potential_band as nine_box_cell,
        case
            when revenue_score >= {{ var('quadrant_core_cutoff') }}
                and coalesce(growth_yoy, 0) >= {{ var('quadrant_falling_growth') }} then 'core_value'
            when revenue_score >= {{ var('box_mid_cutoff') }}
                and growth_yoy >= {{ var('quadrant_fast_growth') }} then 'high_potential'
            when revenue_score >= {{ var('box_mid_cutoff') }} then 'maintain'
            else 'optimise'
        end as quadrant,
        case
            when revenue_t12m <= 0 and revenue_lifetime <= 0 then 'acquire'
            when revenue_t12m <= 0 then 'watch'
            when contribution_band = 'high'
                and (growth_yoy < {{ var('quadrant_falling_growth') }}
                    or coalesce({{ days_between('last_activity_date', 'as_of_date') }}, 9999)
                        > {{ var('health_no_contact_days') }}) then 'win_back'
            when contribution_band = 'high' then 'retain'
            when strategic_score >= 60 then 'upgrade'
            else 'watch'
        end as play,
        contribution_band,
        potential_band
    from scored
)

select * from final
