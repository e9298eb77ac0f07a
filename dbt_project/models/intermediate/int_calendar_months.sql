-- Every calendar month from the earliest to the latest date any revenue can touch (service periods,
-- credit notes) and at least through the as-of month. Grain: revenue_month.
with recursive

as_of as (
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
        {{ month_start('max(d)') }} as last_month
    from dates
    where d is not null
),

months (revenue_month) as (
    select first_month from bounds where first_month is not null
    union all
    select {{ add_months('months.revenue_month', 1) }}
    from months
    cross join bounds
    where months.revenue_month < bounds.last_month
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
