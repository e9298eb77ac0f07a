-- Concentration figures within each segment (account segment; a group takes its head's segment).
-- One aggregate over the within-segment ranks of int_concentration_ranked (macro concentration_summary).
-- Grain: revenue_month × level × window × segment.
with ranked as (
    select * from {{ ref('int_concentration_ranked') }}
),

concentration_summary as (
{{ concentration_summary('ranked', ['revenue_month', 'level', 'time_window', 'segment'], 'segment_') }}
),

final as (
    select
        revenue_month,
        level,
        time_window as {{ adapter.quote('window') }},
        segment,
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
