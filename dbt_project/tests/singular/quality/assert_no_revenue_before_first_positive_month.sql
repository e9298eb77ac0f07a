{{ config(severity='warn') }}
-- Revenue the fact table cannot hold by definition (its spine starts at each account's first month with
-- revenue > 0, kam-domain.md), e.g. a credit note booked before an account's first invoice. Listed with
-- account, month and amount so nothing is lost silently; a warning, not a block.
with monthly as (
    select account_id, revenue_month, revenue from {{ ref('int_account_revenue_monthly') }}
),

spine_start as (
    select account_id, min(revenue_month) as first_month
    from monthly
    where revenue > 0
    group by account_id
)

select m.account_id, m.revenue_month, m.revenue, s.first_month
from monthly as m
left join spine_start as s on s.account_id = m.account_id
where (s.first_month is null or m.revenue_month < s.first_month)
    and abs(m.revenue) >= 0.005
