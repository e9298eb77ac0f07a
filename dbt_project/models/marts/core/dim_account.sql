{{ config(materialized='view') }}
-- One row per CRM account (merged ones included, pointing at their survivor), with its group, first
-- revenue month and lifecycle stage (tenure since first invoice) and the current tier of its group.
-- A view, so the tier is current right after the tier step; publish materialises it.
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

groups as (
    select * from {{ ref('int_account_groups') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

first_revenue as (
    select account_id, min(first_revenue_month) as first_revenue_month
    from {{ ref('fct_account_revenue_monthly') }}
    group by account_id
),

first_invoice as (
    select g.survivor_account_id as account_id, min(i.invoice_date) as first_invoice_date
    from {{ ref('stg_billing__invoices') }} as i
    inner join groups as g on g.account_id = i.account_id
    cross join as_of
    where not i.is_void and i.invoice_date <= as_of.as_of_date
    group by g.survivor_account_id
),

current_tiers as (
    select account_id, tier, valid_from, score
    from {{ ref('stg_tiers__account_tier_history') }}
    where is_current
),

tenure as (
    select
        a.account_id,
        fi.first_invoice_date,
        as_of.as_of_month_index - {{ month_index('fi.first_invoice_date') }} as tenure_months
    from accounts as a
    inner join groups as g on g.account_id = a.account_id
    cross join as_of
    left join first_invoice as fi on fi.account_id = g.survivor_account_id
),

final as (
    select
        a.account_id,
        a.account_name,
        g.group_id,
        g.survivor_account_id,
        g.is_merged,
        a.parent_account_id,
        a.customer_type,
        a.segment,
        a.industry,
        a.region,
        a.account_manager,
        a.estimated_annual_budget,
        a.is_reference_customer,
        fr.first_revenue_month,
        t.first_invoice_date,
        t.tenure_months,
        case
            when t.tenure_months is null then null
            when t.tenure_months < {{ var('lifecycle_stable_months') }} then 'initial'
            when t.tenure_months < {{ var('lifecycle_deep_months') }} then 'stable'
            when t.tenure_months < {{ var('lifecycle_partnership_months') }} then 'deep'
            else 'partnership'
        end as lifecycle_stage,
        ct.tier,
        ct.valid_from as tier_valid_from,
        ct.score as tier_score
    from accounts as a
    inner join groups as g on g.account_id = a.account_id
    left join first_revenue as fr on fr.account_id = g.survivor_account_id
    left join tenure as t on t.account_id = a.account_id
    left join current_tiers as ct on ct.account_id = g.group_id
)

select * from final
