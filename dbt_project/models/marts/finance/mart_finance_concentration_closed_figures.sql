{{ config(materialized='view') }}
-- depends_on: {{ ref('mart_finance_concentration_closed') }} (its pre-hook creates the finance tables)
-- Every figure every close version froze, earlier versions included: the closed month's own figures
-- and the comparison months (figure_month = the month before, the same month a year before) that the
-- report's MoM / YoY columns show. Long form, as in mart_finance_concentration_figures.
with closed as (
    select * from {{ source('finance', 'concentration_closed') }}
),

final as (
    select
        closed_month,
        close_version,
        is_current,
        coalesce(figure_month, closed_month) as figure_month,
        figure_set,
        level,
        time_window,
        segment,
        metric,
        value
    from closed
)

select * from final
