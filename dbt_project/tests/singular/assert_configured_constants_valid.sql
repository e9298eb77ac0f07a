-- The constants set as vars in dbt_project.yml are usable: lifecycle bands ascending, concentration
-- shares in (0, 1], the top N at least 1. One row per problem found, naming it.
with problems as (
    select 'lifecycle bands not 0 < stable < deep < partnership months' as problem
    where not (0 < {{ var('lifecycle_stable_months') }}
        and {{ var('lifecycle_stable_months') }} < {{ var('lifecycle_deep_months') }}
        and {{ var('lifecycle_deep_months') }} < {{ var('lifecycle_partnership_months') }})
    union all
    select 'concentration_top_share not within (0, 1]'
    where not (0 < {{ var('concentration_top_share') }} and {{ var('concentration_top_share') }} <= 1)
    union all
    select 'concentration_revenue_share not within (0, 1]'
    where not (0 < {{ var('concentration_revenue_share') }} and {{ var('concentration_revenue_share') }} <= 1)
    union all
    select 'concentration_top_n below 1'
    where {{ var('concentration_top_n') }} < 1
)

select * from problems
