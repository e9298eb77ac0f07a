{{ config(
    materialized='view',
    pre_hook=[
        "create schema if not exists finance",
        "create table if not exists finance.concentration_closed (
            closed_month date not null, figure_set varchar not null, level varchar not null,
            time_window varchar not null, segment varchar not null, metric varchar not null, value double precision,
            close_version integer not null, is_current boolean not null, as_of_date date not null,
            closed_at timestamp not null, closed_by_run_id varchar not null, close_reason varchar)",
        "alter table finance.concentration_closed add column if not exists figure_month date",
        "alter table finance.concentration_closed add column if not exists closed_by varchar",
        "create table if not exists finance.concentration_closed_entities (
            closed_month date not null, close_version integer not null, is_current boolean not null,
            level varchar not null, time_window varchar not null, entity_id varchar not null,
            entity_name varchar, segment varchar, customer_type varchar, tier varchar, revenue double precision,
            rank_desc integer not null, share double precision, cumulative_share double precision, point integer not null,
            cumulative_entity_share double precision, cumulative_revenue_share double precision)",
        "create table if not exists finance.close_log (
            closed_month date not null, close_version integer, action varchar not null,
            run_id varchar not null, logged_at timestamp not null, figures integer, reason varchar)",
    ]
) }}
-- The month-end concentration figures of each closed month as frozen by `kam close` (its current close
-- version, the month's own figures; the comparison months frozen with it are in
-- mart_finance_concentration_closed_figures): what finance reported, unchanged by data loaded later.
-- The DDL above matches kam_warehouse.serving.finance_state (a test holds the two equal); kam close
-- owns the rows.
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
