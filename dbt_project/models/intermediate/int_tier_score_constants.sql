{{ config(materialized='view') }}
-- The tier score's points and cut-offs (seed tier_score_constants, one row per constant) as one row with
-- a column per constant, for mart_account_tier_scores. A constant missing from the seed is null here
-- and fails this model's not_null tests.
with constants as (
    select constant, value from {{ ref('tier_score_constants') }}
),

final as (
    select
        max(case when constant = 'strategic_type_points' then value end) as strategic_type_points,
        max(case when constant = 'reference_customer_points' then value end) as reference_customer_points,
        max(case when constant = 'executive_visit_points' then value end) as executive_visit_points,
        max(case when constant = 'recent_activity_points' then value end) as recent_activity_points,
        max(case when constant = 'activity_points_cap' then value end) as activity_points_cap,
        max(case when constant = 'payment_base_points' then value end) as payment_base_points,
        max(case when constant = 'payment_points_per_day_past_due' then value end)
            as payment_points_per_day_past_due,
        max(case when constant = 'box_high_cutoff' then value end) as box_high_cutoff,
        max(case when constant = 'box_mid_cutoff' then value end) as box_mid_cutoff,
        max(case when constant = 'quadrant_core_cutoff' then value end) as quadrant_core_cutoff,
        max(case when constant = 'quadrant_fast_growth' then value end) as quadrant_fast_growth,
        max(case when constant = 'quadrant_falling_growth' then value end) as quadrant_falling_growth
    from constants
)

select * from final
