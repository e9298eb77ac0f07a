{#- The table format on Spark (spark_table_format): dbt-spark enforces the contract's not_null
    constraints with ALTER COLUMN ... SET NOT NULL, which only Delta has; on plain Parquet it checks the
    contract's names and types only (the not_null data tests still run). None on the other adapters. -#}
{{ config(file_format=spark_table_format()) }}
-- Composite tier score per GROUP (account_id = group head) as of the as-of date: dimension scores,
-- effective weights, thresholds, proposed tier, nine-box cell, quadrant and play. The formulas are
-- written out in docs/quality-and-tiers.md ("The score"); every constant comes from the seeds
-- tier_weights, tier_thresholds and tier_score_constants (as one row: int_tier_score_constants).
-- Public and contracted: the tier step, `kam tiers` and the quality gate read it. Grain: account_id.
with inputs as (
    select * from {{ ref('int_group_tier_inputs') }}
),

weights as (
    select * from {{ ref('tier_weights') }}
),

thresholds as (
    select * from {{ ref('tier_thresholds') }}
),

constants as (
    select * from {{ ref('int_tier_score_constants') }}
),

scored_groups as (
    select
        account_id,
        segment,
        as_of_date,
        revenue_t12m,
        revenue_t12m_prior,
        revenue_lifetime,
        case when revenue_t12m_prior > 0 then {{ float_divide('revenue_t12m', 'revenue_t12m_prior') }} - 1 end
            as growth_yoy,
        weighted_pipeline,
        case when estimated_annual_budget is not null then estimated_annual_budget - revenue_t12m end
            as wallet_headroom,
        is_strategic_type,
        is_reference_customer,
        last_activity_date,
        {{ days_between('last_activity_date', 'as_of_date') }} as days_since_last_activity,
        executive_visits_12m,
        activities_recent,
        case when payments_12m > 0 then {{ float_divide('dpd_sum_12m', 'payments_12m') }} end
            as avg_days_past_due_12m
    from inputs
    where revenue_t12m > 0 or coalesce(weighted_pipeline, 0) > 0
),

components as (
    select
        g.*,
        case when g.revenue_t12m > 0 then 100 * cume_dist() over (
            partition by g.revenue_t12m > 0 order by g.revenue_t12m) else 0 end as revenue_score,
        case when g.growth_yoy is not null then 100 * cume_dist() over (
            partition by g.growth_yoy is not null order by g.growth_yoy) end as growth_component,
        case
            when g.weighted_pipeline > 0 then 100 * cume_dist() over (
                partition by g.weighted_pipeline > 0 order by g.weighted_pipeline)
            when g.weighted_pipeline is not null then 0
        end as pipeline_component,
        case
            when g.wallet_headroom > 0 then 100 * cume_dist() over (
                partition by g.wallet_headroom > 0 order by g.wallet_headroom)
            when g.wallet_headroom is not null then 0
        end as headroom_component,
        case when g.last_activity_date is not null
            then least(c.activity_points_cap,
                c.executive_visit_points * g.executive_visits_12m + c.recent_activity_points * g.activities_recent)
        end as activity_component,
        case when g.avg_days_past_due_12m is not null
            then greatest(0, least(100,
                c.payment_base_points - c.payment_points_per_day_past_due * g.avg_days_past_due_12m))
        end as payment_component,
        c.strategic_type_points * case when g.is_strategic_type then 1 else 0 end
            + c.reference_customer_points * case when g.is_reference_customer then 1 else 0 end as strategic_score
    from scored_groups as g
    cross join constants as c
),

dimensions as (
    select
        components.*,
        (coalesce(growth_component, 0) + coalesce(pipeline_component, 0) + coalesce(headroom_component, 0))
            / nullif(
                case when growth_component is null then 0 else 1 end
                + case when pipeline_component is null then 0 else 1 end
                + case when headroom_component is null then 0 else 1 end, 0) as potential_score,
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
        n.*,
        n.w_revenue * coalesce(n.revenue_score, 0) + n.w_potential * coalesce(n.potential_score, 0)
            + n.w_strategic * coalesce(n.strategic_score, 0) + n.w_relationship * coalesce(n.relationship_score, 0)
            as score,
        case
            when n.revenue_score >= c.box_high_cutoff then 'high'
            when n.revenue_score >= c.box_mid_cutoff then 'mid'
            else 'low'
        end as contribution_band,
        case
            when n.potential_score >= c.box_high_cutoff then 'high'
            when n.potential_score >= c.box_mid_cutoff then 'mid'
            else 'low'
        end as potential_band,
        case
            when n.revenue_score >= c.quadrant_core_cutoff
                and coalesce(n.growth_yoy, 0) >= c.quadrant_falling_growth then 'core_value'
            when n.revenue_score >= c.box_mid_cutoff and n.growth_yoy >= c.quadrant_fast_growth then 'high_potential'
            when n.revenue_score >= c.box_mid_cutoff then 'maintain'
            else 'optimise'
        end as quadrant,
        coalesce(n.growth_yoy < c.quadrant_falling_growth, false) as is_growth_falling
    from normalised as n
    cross join constants as c
),

final as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(as_of_date as date) as as_of_date,
        cast(revenue_t12m as {{ type_money() }}) as revenue_t12m,
        cast(revenue_t12m_prior as {{ type_money() }}) as revenue_t12m_prior,
        cast(revenue_lifetime as {{ type_money() }}) as revenue_lifetime,
        cast(growth_yoy as {{ type_double() }}) as growth_yoy,
        cast(weighted_pipeline as {{ type_money() }}) as weighted_pipeline,
        cast(wallet_headroom as {{ type_money() }}) as wallet_headroom,
        cast(is_strategic_type as boolean) as is_strategic_type,
        cast(is_reference_customer as boolean) as is_reference_customer,
        cast(executive_visits_12m as integer) as executive_visits_12m,
        cast(activities_recent as integer) as activities_recent,
        cast(avg_days_past_due_12m as {{ type_double() }}) as avg_days_past_due_12m,
        cast(last_activity_date as date) as last_activity_date,
        cast(days_since_last_activity as integer) as days_since_last_activity,
        cast(revenue_score as {{ type_double() }}) as revenue_score,
        cast(growth_component as {{ type_double() }}) as growth_component,
        cast(pipeline_component as {{ type_double() }}) as pipeline_component,
        cast(headroom_component as {{ type_double() }}) as headroom_component,
        cast(potential_score as {{ type_double() }}) as potential_score,
        cast(strategic_score as {{ type_double() }}) as strategic_score,
        cast(activity_component as {{ type_double() }}) as activity_component,
        cast(payment_component as {{ type_double() }}) as payment_component,
        cast(relationship_score as {{ type_double() }}) as relationship_score,
        cast(w_revenue as {{ type_double() }}) as w_revenue,
        cast(w_potential as {{ type_double() }}) as w_potential,
        cast(w_strategic as {{ type_double() }}) as w_strategic,
        cast(w_relationship as {{ type_double() }}) as w_relationship,
        cast(missing_inputs as {{ dbt.type_string() }}) as missing_inputs,
        missing_inputs <> '' as is_renormalised,
        cast(score as {{ type_double() }}) as score,
        cast(threshold_strategic as {{ type_double() }}) as threshold_strategic,
        cast(threshold_key as {{ type_double() }}) as threshold_key,
        cast(threshold_standard as {{ type_double() }}) as threshold_standard,
        cast(case
            when score >= threshold_strategic then 'strategic'
            when score >= threshold_key then 'key'
            when score >= threshold_standard then 'standard'
            else 'other'
        end as {{ dbt.type_string() }}) as proposed_tier,
        cast(contribution_band as {{ dbt.type_string() }}) as contribution_band,
        cast(potential_band as {{ dbt.type_string() }}) as potential_band,
        cast(contribution_band || '/' || potential_band as {{ dbt.type_string() }}) as nine_box_cell,
        cast(quadrant as {{ dbt.type_string() }}) as quadrant,
        cast(case
            when revenue_t12m <= 0 and revenue_lifetime <= 0 then 'acquire'
            when revenue_t12m <= 0 then 'watch'
            when contribution_band = 'high'
                and (is_growth_falling
                    or last_activity_date is null
                    or days_since_last_activity > {{ var('health_no_contact_days') }}) then 'win_back'
            when contribution_band = 'high' then 'retain'
            when is_strategic_type then 'upgrade'
            else 'watch'
        end as {{ dbt.type_string() }}) as play
    from scored
)

select * from final
