-- Early warning of churn per (survivor) account with revenue history, as of the as-of date: revenue of
-- the as-of month against its own trailing 12-month average, days-past-due trend, days since the last
-- visit / activity, primary-contact change, open pipeline, and a risk flag. Grain: account_id.
with accounts as (
    select * from {{ ref('fct_account_revenue_monthly') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

signals as (
    select * from {{ ref('int_account_signals') }}
),

revenue as (
    select
        a.account_id,
        max(a.group_id) as group_id,
        cast(sum(case when a.month_index = as_of.as_of_month_index then a.revenue else 0 end) as {{ type_money() }})
            as revenue_as_of_month,
        -- money divided exactly, rounded half away from zero to the money scale
        {{ money_allocate('''sum(case
            when a.month_index between as_of.as_of_month_index - 12 and as_of.as_of_month_index - 1
            then a.revenue else 0
        end)''', 1, 12) }} as trailing_avg_revenue_12m
    from accounts as a
    cross join as_of
    group by a.account_id
),

measures as (
    select
        r.account_id,
        r.group_id,
        as_of.as_of_date,
        r.revenue_as_of_month,
        r.trailing_avg_revenue_12m,
        case when r.trailing_avg_revenue_12m > 0
            then {{ float_divide('r.revenue_as_of_month', 'r.trailing_avg_revenue_12m') }} end as revenue_vs_trailing,
        -- float division: integer sums over integer counts (PostgreSQL would divide integers)
        {{ float_divide('s.dpd_sum_recent', 's.payments_recent') }} as avg_days_past_due_recent,
        {{ float_divide('s.dpd_sum_prior', 's.payments_prior') }} as avg_days_past_due_prior,
        s.last_activity_date,
        {{ days_between('s.last_activity_date', 'as_of.as_of_date') }} as days_since_last_activity,
        s.last_visit_date,
        {{ days_between('s.last_visit_date', 'as_of.as_of_date') }} as days_since_last_visit,
        coalesce(s.primary_contact_changes_recent, 0) > 0 as primary_contact_changed,
        coalesce(s.open_opportunities, 0) as open_opportunities,
        coalesce(s.weighted_pipeline, 0) as open_pipeline_weighted
    from revenue as r
    cross join as_of
    left join signals as s on s.account_id = r.account_id
),

flags as (
    select
        measures.*,
        avg_days_past_due_recent - avg_days_past_due_prior as days_past_due_trend,
        coalesce(revenue_vs_trailing < {{ var('health_revenue_decline_ratio') }}, false) as flag_revenue_decline,
        coalesce(avg_days_past_due_recent - avg_days_past_due_prior > {{ var('health_dpd_trend_days') }}, false)
            as flag_payments_slowing,
        coalesce(days_since_last_activity > {{ var('health_no_contact_days') }}, true) as flag_no_recent_contact,
        primary_contact_changed as flag_contact_change
    from measures
),

final as (
    select
        flags.*,
        cast(flag_revenue_decline as integer) + cast(flag_payments_slowing as integer)
            + cast(flag_no_recent_contact as integer) + cast(flag_contact_change as integer) as risk_signal_count,
        flag_revenue_decline
            or (cast(flag_revenue_decline as integer) + cast(flag_payments_slowing as integer)
                + cast(flag_no_recent_contact as integer) + cast(flag_contact_change as integer)) >= 2
            as risk_flag
    from flags
)

select * from final
