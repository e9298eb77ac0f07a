{{ config(materialized='view') }}
-- depends_on: {{ ref('mart_finance_concentration_closed') }} (its pre-hook creates the finance tables)
-- One row per closed month and close version (earlier versions stay): when and by whom it was closed,
-- the data's as-of date, the reason of a re-close, and how many figures and entities it froze.
with closed as (
    select * from {{ source('finance', 'concentration_closed') }}
),

entities as (
    select closed_month, close_version, count(*) as entities
    from {{ source('finance', 'concentration_closed_entities') }}
    group by closed_month, close_version
),

versions as (
    select
        closed_month,
        close_version,
        is_current,
        as_of_date,
        closed_at,
        closed_by,
        closed_by_run_id,
        close_reason,
        count(case when coalesce(figure_month, closed_month) = closed_month then 1 end) as figures
    from closed
    group by closed_month, close_version, is_current, as_of_date, closed_at, closed_by, closed_by_run_id,
        close_reason
),

final as (
    select
        v.closed_month,
        v.close_version,
        v.is_current,
        v.as_of_date,
        v.closed_at,
        v.closed_by,
        v.closed_by_run_id,
        v.close_reason,
        v.figures,
        coalesce(e.entities, 0) as entities
    from versions as v
    left join entities as e on e.closed_month = v.closed_month and e.close_version = v.close_version
)

select * from final
