{{ config(
    materialized='view',
    pre_hook=[
        "{{ ensure_finance_tables(0) }}",
        "{{ ensure_finance_tables(1) }}",
        "{{ ensure_finance_tables(2) }}",
        "{{ ensure_finance_tables(3) }}",
        "{{ ensure_finance_tables(4) }}",
        "{{ ensure_finance_tables(5) }}",
    ]
) }}
-- The month-end concentration figures of each closed month as frozen by `kam close` (its current close
-- version, the month's own figures; the comparison months frozen with it are in
-- mart_finance_concentration_closed_figures): what finance reported, unchanged by data loaded later.
-- The pre-hooks create the close state empty on a new warehouse from its one definition (var
-- kam_state_tables, macros/state_tables.sql; kam close renders the same DDL); kam close owns the rows.
with closed as (
    select * from {{ source('finance', 'concentration_closed') }}
),

final as (
    select
        closed_month,
        figure_set,
        level,
        time_window,
        segment,
        metric,
        value,
        close_version,
        as_of_date,
        closed_at,
        closed_by,
        closed_by_run_id,
        close_reason
    from closed
    where is_current
        and coalesce(figure_month, closed_month) = closed_month
)

select * from final
