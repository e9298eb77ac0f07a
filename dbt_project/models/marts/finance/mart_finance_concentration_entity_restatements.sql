{{ config(materialized='view') }}
-- Accounts and groups of every closed month whose revenue or rank changed since the close (current
-- close version vs current data), per level and window: closed and current rank and revenue and the
-- delta. A late invoice that makes another account the month's top account shows up here by name.
with closed as (
    select * from {{ ref('mart_finance_concentration_closed_entities') }}
    where is_current
),

versions as (
    select closed_month, close_version from {{ ref('mart_finance_close_versions') }}
    where is_current
),

current_entities as (
    select e.*
    from {{ ref('mart_finance_concentration_entities') }} as e
    inner join versions as v on v.closed_month = e.revenue_month
),

compared as (
    select
        coalesce(c.closed_month, f.revenue_month) as closed_month,
        coalesce(c.level, f.level) as level,
        coalesce(c.time_window, f.time_window) as time_window,
        coalesce(c.entity_id, f.entity_id) as entity_id,
        coalesce(f.entity_name, c.entity_name) as entity_name,
        c.rank_desc as closed_rank,
        f.rank_desc as current_rank,
        c.revenue as closed_revenue,
        f.revenue as current_revenue,
        coalesce(f.revenue, 0) - coalesce(c.revenue, 0) as delta
    from closed as c
    full outer join current_entities as f
        on f.revenue_month = c.closed_month
        and f.level = c.level
        and f.time_window = c.time_window
        and f.entity_id = c.entity_id
),

final as (
    select
        r.closed_month,
        r.level,
        r.time_window,
        r.entity_id,
        r.entity_name,
        r.closed_rank,
        r.current_rank,
        r.closed_revenue,
        r.current_revenue,
        r.delta,
        v.close_version
    from compared as r
    inner join versions as v on v.closed_month = r.closed_month
    where r.closed_rank is distinct from r.current_rank
        or abs(r.delta) > 1e-9 * greatest(1.0, abs(coalesce(r.closed_revenue, 0)))
)

select * from final
