{{
    config(
        materialized=replace_by_key_materialization(),
        unique_key='invoice_line_id',
        incremental_strategy=replace_by_key_strategy(),
        file_format=spark_table_format(),
        on_schema_change='fail'
    )
}}
-- Recognised revenue of each invoice line by month (month-weight rule, kam-domain.md): each month the
-- service period touches gets weight = days of the period in it / days in it; the reporting-currency
-- amount is split in proportion, each month's share computed exactly on the integer weight units of
-- day_weight_units and rounded half away from zero to the money scale (docs/data-model.md). Void
-- invoices recognise 0. Independent of the as-of date (the marts cut at it).
-- Grain: invoice_line_id × revenue_month.
-- Incremental: reprocesses lines whose line or invoice was loaded after the last run, and lines dated
-- on or after a newly loaded FX rate of their currency (the only lines a late rate can change);
-- replacing by invoice_line_id (delete+insert; merge on Spark with Delta/Iceberg/Hudi, a full table on
-- plain Parquet) replaces all months of a reprocessed line.
-- depends_on: {{ ref('stg_billing__fx_rates') }}
with lines as (
    select * from {{ ref('int_invoice_lines_converted') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

{%- set days_in_period -%}
    {{ days_between('greatest(l.service_start, m.revenue_month)', 'least(l.service_end, m.month_end)') }} + 1
{%- endset %}

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
        {{ float_divide(days_in_period, 'm.days_in_month') }} as month_weight,
        ({{ days_in_period }}) * {{ day_weight_units('m.days_in_month') }} as weight_units
    from changed_lines as l
    inner join months as m
        on m.revenue_month >= {{ month_start('l.service_start') }}
        and m.revenue_month <= l.service_end
),

line_totals as (
    select
        line_months.*,
        sum(weight_units) over (partition by invoice_line_id) as line_weight_units
    from line_months
),

final as (
    select
        invoice_line_id,
        invoice_id,
        account_id,
        revenue_month,
        month_weight,
        case
            when is_void then cast(0 as {{ type_money() }})
            else {{ money_allocate('amount_reporting', 'weight_units', 'line_weight_units') }}
        end as recognised_revenue,
        source_loaded_at
    from line_totals
)

select * from final
