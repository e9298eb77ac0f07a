-- The 80/20 view: per month, level (account / group) and window (month / trailing 12 months), how
-- concentrated revenue is among active entities (revenue > 0). Definitions: kam-domain.md.
-- One aggregate over the entities ranked once in int_concentration_ranked (macro concentration_summary).
-- Grain: revenue_month × level × window.
with ranked as (
    select * from {{ ref('int_concentration_ranked') }}
),

concentration_summary as (
{{ concentration_summary('ranked', ['revenue_month', 'level', 'time_window']) }}
),

final as (
    select
        revenue_month,
        level,
        time_window as {{ adapter.quote('window') }},
        active_count,
        total_revenue,
        top_20pct_count,
        top_20pct_share,
        top_10_share,
        count_for_80pct,
        hhi,
        gini,
        max_share,
        has_account_over_10pct
    from concentration_summary
)

select * from final
