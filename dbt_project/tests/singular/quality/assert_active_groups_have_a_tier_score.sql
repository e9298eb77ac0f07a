-- Every group with revenue in the trailing 12 months (R12 of kam-domain.md: the as-of month and the 11
-- before it) has a tier score, so the tier step can classify it. Returns the groups without one.
with as_of as (
    select as_of_month_index from {{ ref('int_as_of_date') }}
),

active_groups as (
    select d.group_id
    from {{ ref('fct_account_revenue_monthly') }} as f
    inner join {{ ref('dim_account') }} as d on d.account_id = f.account_id
    cross join as_of as a
    where f.month_index > a.as_of_month_index - 12
    group by d.group_id
    having sum(f.revenue) > 0
),

scored as (
    select account_id from {{ ref('mart_account_tier_scores') }} where score is not null
)

select g.group_id
from active_groups as g
left join scored as s on s.account_id = g.group_id
where s.account_id is null
