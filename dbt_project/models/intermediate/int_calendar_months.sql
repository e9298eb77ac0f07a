-- Every calendar month from the earliest to the latest date any revenue can touch (service periods,
-- credit notes) and at least through the as-of month (at most 10,000 months). Grain: revenue_month.
with as_of as (
    select * from {{ ref('int_as_of_date') }}
),

lines as (
    select service_start, service_end from {{ ref('stg_billing__invoice_lines') }}
),

credits as (
    select credit_date from {{ ref('stg_billing__credit_notes') }}
),

dates as (
    select service_start as d from lines
    union all
    select service_end from lines
    union all
    select credit_date from credits
    union all
    select as_of_date from as_of
),

bounds as (
    select
        {{ month_start('min(d)') }} as first_month,
        {{ month_index('max(d)') }} - {{ month_index('min(d)') }} as last_offset
    from dates
    where d is not null
),

-- a generated spine (no recursion): month offsets 0 .. 9999 from the first month
offsets as (
    {{ integer_series(4) }}
),

months as (
    select {{ add_months('b.first_month', 'o.n') }} as revenue_month
    from bounds as b
    inner join offsets as o
        on o.n <= b.last_offset
    where b.first_month is not null
),

final as (
    select
        revenue_month,
        {{ add_days(add_months('revenue_month', 1), -1) }} as month_end,
        {{ days_between('revenue_month', add_months('revenue_month', 1)) }} as days_in_month,
        {{ month_index('revenue_month') }} as month_index
    from months
)

select * from final
