-- Concentration figures within each segment (account segment; a group takes its head's segment).
-- Grain: revenue_month × level × window × segment.
with {{ concentration_inputs(["coalesce(segment, 'unknown') as segment"]) }},

{{ concentration_ctes('entity_values', ['revenue_month', 'level', 'time_window', 'segment']) }},

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
