-- Relationship and pipeline signals per survivor account as of the as-of date: activity recency,
-- executive visits, payment timing (days past due), contact changes and weighted open pipeline in the
-- reporting currency. Sums and counts (not averages) so groups can aggregate them. Grain: account_id.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

survivors as (
    select account_id, survivor_account_id from {{ ref('int_account_survivors') }}
),

activities as (
    select a.*, s.survivor_account_id
    from {{ ref('stg_crm__activities') }} as a
    inner join survivors as s on s.account_id = a.account_id
    cross join as_of
    where a.activity_date <= as_of.as_of_date
),

payments as (
    select
        s.survivor_account_id,
        p.payment_date,
        {{ days_between('i.due_date', 'p.payment_date') }} as days_past_due
    from {{ ref('stg_billing__payments') }} as p
    inner join {{ ref('stg_billing__invoices') }} as i on i.invoice_id = p.invoice_id
    inner join survivors as s on s.account_id = p.account_id
    cross join as_of
    where p.payment_date <= as_of.as_of_date
),

contacts as (
    select c.*, s.survivor_account_id
    from {{ ref('stg_crm__contacts') }} as c
    inner join survivors as s on s.account_id = c.account_id
),

opportunities as (
    select o.*, s.survivor_account_id, as_of.as_of_date as fx_date
    from {{ ref('stg_crm__opportunities') }} as o
    inner join survivors as s on s.account_id = o.account_id
    cross join as_of
    where o.is_open
),

fx_rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
),

opportunity_rates as (
    {{ fx_rate_lookup('opportunities', 'opportunity_id', 'fx_date', 'fx_rates') }}
),

activity_signals as (
    select
        survivor_account_id as account_id,
        max(activity_date) as last_activity_date,
        max(case when activity_type in ('visit', 'executive_visit', 'qbr') then activity_date end) as last_visit_date,
        sum(case
            when activity_type = 'executive_visit'
                and activity_date > {{ add_days('as_of.as_of_date', -var('health_prior_days')) }} then 1 else 0
        end) as executive_visits_12m,
        sum(case
            when activity_date > {{ add_days('as_of.as_of_date', -var('health_recent_days')) }} then 1 else 0
        end) as activities_recent
    from activities
    cross join as_of
    group by survivor_account_id
),

payment_signals as (
    select
        survivor_account_id as account_id,
        sum(case when payment_date > {{ add_days('as_of.as_of_date', -var('health_recent_days')) }}
            then days_past_due end) as dpd_sum_recent,
        sum(case when payment_date > {{ add_days('as_of.as_of_date', -var('health_recent_days')) }}
            then 1 else 0 end) as payments_recent,
        sum(case when payment_date <= {{ add_days('as_of.as_of_date', -var('health_recent_days')) }}
            and payment_date > {{ add_days('as_of.as_of_date', -var('health_prior_days')) }}
            then days_past_due end) as dpd_sum_prior,
        sum(case when payment_date <= {{ add_days('as_of.as_of_date', -var('health_recent_days')) }}
            and payment_date > {{ add_days('as_of.as_of_date', -var('health_prior_days')) }}
            then 1 else 0 end) as payments_prior
    from payments
    cross join as_of
    group by survivor_account_id
),

contact_signals as (
    select
        survivor_account_id as account_id,
        sum(case when is_primary and updated_at > cast({{ add_days('as_of.as_of_date', -var('health_recent_days')) }} as timestamp)
            then 1 else 0 end) as primary_contact_changes_recent
    from contacts
    cross join as_of
    group by survivor_account_id
),

pipeline_signals as (
    select
        o.survivor_account_id as account_id,
        count(*) as open_opportunities,
        cast(sum({{ to_money(to_money('o.amount * o.probability') ~ ' * r.fx_rate') }}) as {{ type_money() }})
            as weighted_pipeline
    from opportunities as o
    left join opportunity_rates as r on r.opportunity_id = o.opportunity_id
    group by o.survivor_account_id
),

account_ids as (
    select account_id from activity_signals
    union
    select account_id from payment_signals
    union
    select account_id from contact_signals
    union
    select account_id from pipeline_signals
),

final as (
    select
        ids.account_id,
        act.last_activity_date,
        act.last_visit_date,
        coalesce(act.executive_visits_12m, 0) as executive_visits_12m,
        coalesce(act.activities_recent, 0) as activities_recent,
        pay.dpd_sum_recent,
        coalesce(pay.payments_recent, 0) as payments_recent,
        pay.dpd_sum_prior,
        coalesce(pay.payments_prior, 0) as payments_prior,
        coalesce(con.primary_contact_changes_recent, 0) as primary_contact_changes_recent,
        coalesce(pip.open_opportunities, 0) as open_opportunities,
        pip.weighted_pipeline
    from account_ids as ids
    left join activity_signals as act on act.account_id = ids.account_id
    left join payment_signals as pay on pay.account_id = ids.account_id
    left join contact_signals as con on con.account_id = ids.account_id
    left join pipeline_signals as pip on pip.account_id = ids.account_id
)

select * from final
