-- The tier score's constants (seed tier_score_constants, vars health_*) are all present and in order:
-- one row per problem found, naming it.
with constants as (
    select constant, value from {{ ref('tier_score_constants') }}
),

required as (
    select 'strategic_type_points' as constant
    union all select 'reference_customer_points'
    union all select 'executive_visit_points'
    union all select 'recent_activity_points'
    union all select 'activity_points_cap'
    union all select 'payment_base_points'
    union all select 'payment_points_per_day_past_due'
    union all select 'box_high_cutoff'
    union all select 'box_mid_cutoff'
    union all select 'quadrant_core_cutoff'
    union all select 'quadrant_fast_growth'
    union all select 'quadrant_falling_growth'
),

cutoffs as (
    select
        max(case when constant = 'box_high_cutoff' then value end) as box_high_cutoff,
        max(case when constant = 'box_mid_cutoff' then value end) as box_mid_cutoff,
        max(case when constant = 'quadrant_core_cutoff' then value end) as quadrant_core_cutoff,
        max(case when constant = 'quadrant_fast_growth' then value end) as quadrant_fast_growth,
        max(case when constant = 'quadrant_falling_growth' then value end) as quadrant_falling_growth,
        min(case when constant like '%points%' then value end) as min_points
    from constants
),

problems as (
    select 'missing constant ' || r.constant as problem
    from required as r
    left join constants as c on c.constant = r.constant
    where c.constant is null
    union all
    select 'box cut-offs not 0 < mid < high <= 100' from cutoffs
    where not (0 < box_mid_cutoff and box_mid_cutoff < box_high_cutoff and box_high_cutoff <= 100)
    union all
    select 'quadrant_core_cutoff not within box_mid_cutoff..100' from cutoffs
    where not (box_mid_cutoff <= quadrant_core_cutoff and quadrant_core_cutoff <= 100)
    union all
    select 'quadrant_falling_growth not below quadrant_fast_growth' from cutoffs
    where not (quadrant_falling_growth < quadrant_fast_growth)
    union all
    select 'negative points' from cutoffs where min_points < 0
    union all
    select 'health_recent_days not within 1..health_prior_days'
    where not ({{ var('health_recent_days') }} >= 1 and {{ var('health_recent_days') }} <= {{ var('health_prior_days') }})
    union all
    select 'health_no_contact_days below 1' where {{ var('health_no_contact_days') }} < 1
)

select * from problems
