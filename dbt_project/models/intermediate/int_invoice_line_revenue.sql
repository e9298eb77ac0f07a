{{
    config(
        materialized='incremental',
        unique_key='invoice_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Recognised revenue of each invoice line by month (month-weight rule, kam-domain.md): each month the
-- service period touches gets weight = days of the period in it / days in it; the reporting-currency
-- amount is split in proportion. Void invoices recognise 0. Independent of the as-of date (the marts
-- cut at it). Grain: invoice_line_id × revenue_month.
-- Incremental: reprocesses lines whose line or invoice was loaded after the last run, and lines dated
-- on or after a newly loaded FX rate of their currency (the only lines a late rate can change);
-- delete+insert by invoice_line_id replaces all months of a reprocessed line.
-- depends_on: {{ ref('stg_billing__fx_rates') }}
with lines as (
    select * from {{ ref('int_invoice_lines_converted') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

{% if is_incremental() %}
watermark as (
    select coalesce(max(source_loaded_at), cast('1900-01-01' as timestamp)) as loaded_at from {{ this }}
),

late_rates as (
    select
        currency,
        min(rate_date) as first_rate_date
    from {{ ref('stg_billing__fx_rates') }}
    where _loaded_at > (select loaded_at from watermark)
    group by currency
),

changed_lines as (
    select lines.*
    from lines
    left join late_rates
        on late_rates.currency = lines.currency
    where lines.source_loaded_at > (select loaded_at from watermark)
        or lines.invoice_date >= late_rates.first_rate_date
),
{% else %}
changed_lines as (
    select * from lines
),
{% endif %}

line_months as (
    select
        l.invoice_line_id,
        l.invoice_id,
        l.account_id,
        l.is_void,
        l.amount_reporting,
        l.source_loaded_at,
        m.revenue_month,
        cast(
            {{ days_between('greatest(l.service_start, m.revenue_month)', 'least(l.service_end, m.month_end)') }} + 1
            as double
        ) / m.days_in_month as month_weight
    from changed_lines as l
    inner join months as m
        on m.revenue_month >= {{ month_start('l.service_start') }}
        and m.revenue_month <= l.service_end
),

final as (
    select
        invoice_line_id,
        invoice_id,
        account_id,
        revenue_month,
        month_weight,
        case
            when is_void then 0.0
            else amount_reporting * month_weight / sum(month_weight) over (partition by invoice_line_id)
        end as recognised_revenue,
        source_loaded_at
    from line_months
)

select * from final
