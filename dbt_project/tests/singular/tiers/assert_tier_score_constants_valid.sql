-- The tier score's constants (seed tier_score_constants as one row in int_tier_score_constants; vars
-- health_*) are in order: one row per problem found, naming it. A missing constant is a null there
-- (its not_null test fails) and makes every comparison below fail too.
with c as (
    select * from {{ ref('int_tier_score_constants') }}
),

problems as (
    select 'box cut-offs not 0 < mid < high <= 100' as problem from c
    where not coalesce(0 < box_mid_cutoff and box_mid_cutoff < box_high_cutoff and box_high_cutoff <= 100, false)
    union all
    select 'quadrant_core_cutoff not within box_mid_cutoff..100' from c
    where not coalesce(box_mid_cutoff <= quadrant_core_cutoff and quadrant_core_cutoff <= 100, false)
    union all
    select 'quadrant_falling_growth not below quadrant_fast_growth' from c
    where not coalesce(quadrant_falling_growth < quadrant_fast_growth, false)
    union all
    select 'negative points' from c
    where not coalesce(least(strategic_type_points, reference_customer_points, executive_visit_points,
        recent_activity_points, activity_points_cap, payment_base_points, payment_points_per_day_past_due) >= 0, false)
    union all
    select 'strategic_type_points + reference_customer_points above 100' from c
    where not coalesce(strategic_type_points + reference_customer_points <= 100, false)
    union all
    select 'health_recent_days not within 1..health_prior_days'
    where not ({{ var('health_recent_days') }} >= 1 and {{ var('health_recent_days') }} <= {{ var('health_prior_days') }})
    union all
    select 'health_no_contact_days below 1' where {{ var('health_no_contact_days') }} < 1
)

select * from problems
