{{ replace_by_key_config('account_id', pre_hook="{{ delete_stale_keys('account_id', fct_account_stale_keys()) }}") }}
-- Recognised revenue per (survivor) account and month, continuous from the account's first month with
-- revenue > 0 through the as-of month (gaps 0), with the month's movement and trailing-12-month revenue.
-- Grain: account_id × revenue_month.
-- Incremental by account (macros/incremental_facts.sql): the pre-hook deletes the accounts whose rows
-- no longer match int_account_revenue_monthly, their group or segment, or the as-of month; the spine is
-- rebuilt for the accounts the table then lacks.
with monthly_all as (
    select * from {{ ref('int_account_revenue_monthly') }}
),

monthly as (
    {{ rows_of_missing_keys('monthly_all', 'account_id') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

accounts as (
    select account_id, segment from {{ ref('stg_crm__accounts') }}
),

groups as (
    select account_id, group_id from {{ ref('int_account_groups') }}
),

{{ revenue_spine('monthly', 'account_id', 'months', 'as_of') }},

final as (
    select
        s.account_id,
        s.revenue_month,
        g.group_id,
        a.segment,
        s.revenue,
        s.previous_revenue,
        s.movement,
        s.revenue_t12m,
        s.first_revenue_month,
        s.month_index
    from spine_final as s
    left join groups as g on g.account_id = s.account_id
    left join accounts as a on a.account_id = s.account_id
)

select * from final
