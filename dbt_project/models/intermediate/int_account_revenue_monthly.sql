-- Recognised revenue per survivor account and month through the as-of month: line revenue minus
-- credit notes; invoices and credit notes dated after the as-of date are not yet known, months after
-- the as-of month are deferred. Only months with any revenue event. Grain: account_id × revenue_month.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

line_revenue as (
    select * from {{ ref('int_invoice_line_revenue') }}
),

credit_notes as (
    select * from {{ ref('int_credit_notes_converted') }}
),

survivors as (
    select account_id, survivor_account_id from {{ ref('int_account_survivors') }}
),

events as (
    select r.account_id, r.revenue_month, r.recognised_revenue as revenue
    from line_revenue as r
    cross join as_of
    where r.invoice_date <= as_of.as_of_date
        and r.revenue_month <= as_of.as_of_month
    union all
    select c.account_id, c.revenue_month, c.revenue_reporting
    from credit_notes as c
    cross join as_of
    where c.credit_date <= as_of.as_of_date
),

final as (
    select
        coalesce(s.survivor_account_id, e.account_id) as account_id,
        e.revenue_month,
        -- exact: a sum of money-scale decimals (docs/data-model.md)
        cast(sum(e.revenue) as {{ type_money() }}) as revenue
    from events as e
    left join survivors as s
        on s.account_id = e.account_id
    group by coalesce(s.survivor_account_id, e.account_id), e.revenue_month
)

select * from final
