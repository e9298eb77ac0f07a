{{ replace_by_key_config('invoice_line_id') }}
-- Recognised revenue of each invoice line by month (month-weight rule, kam-domain.md): each month the
-- service period touches gets weight = days of the period in it / days in it; the reporting-currency
-- amount is split in proportion, each month's share computed exactly on the integer weight units of
-- day_weight_units and rounded half away from zero to the money scale (docs/data-model.md). Void
-- invoices recognise 0; a line awaiting its FX rate has recognised_revenue null. Independent of the
-- as-of date (the marts cut at it: invoice_date is kept for that). Grain: invoice_line_id × revenue_month.
-- One pass: lines are joined to their invoice, converted (macro convert_invoice_lines) and spread here;
-- a line inside one calendar month (most lines) is its whole amount, only longer periods are split.
-- Incremental: reprocesses lines whose line or invoice was loaded after the last run, and lines of
-- invoices dated on or after a newly loaded FX rate of their currency (the only lines a late rate can
-- change); only those lines are converted. Replacing by invoice_line_id (delete+insert; merge on Spark
-- with Delta/Iceberg/Hudi, a full table on plain Parquet) replaces all months of a reprocessed line.
with all_lines as (
    select invoice_line_id, invoice_id, amount, service_start, service_end, _loaded_at
    from {{ ref('stg_billing__invoice_lines') }}
),

all_invoices as (
    select invoice_id, account_id, invoice_date, currency, is_void, _loaded_at
    from {{ ref('stg_billing__invoices') }}
),

fx_rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
),

months as (
    select * from {{ ref('int_calendar_months') }}
),

{%- set days_in_period -%}
    {{ days_between('greatest(l.service_start, l.revenue_month)', 'least(l.service_end, l.month_end)') }} + 1
{%- endset %}

{% if is_incremental() %}
watermark as (
    select coalesce(max(source_loaded_at), cast('1900-01-01' as timestamp)) as loaded_at from {{ this }}
),

late_rates as (
    select
        currency,
        min(rate_date) as first_rate_date
    from fx_rates
    where _loaded_at > (select loaded_at from watermark)
    group by currency
),

changed_invoices as (
    select i.invoice_id
    from all_invoices as i
    left join late_rates
        on late_rates.currency = i.currency
    where i._loaded_at > (select loaded_at from watermark)
        or i.invoice_date >= late_rates.first_rate_date
),

lines as (
    select *
    from all_lines
    where _loaded_at > (select loaded_at from watermark)
        or invoice_id in (select invoice_id from changed_invoices)
),

invoices as (
    select *
    from all_invoices
    where invoice_id in (select invoice_id from lines)
),
{% else %}
lines as (
    select * from all_lines
),

invoices as (
    select * from all_invoices
),
{% endif %}

{{ convert_invoice_lines('lines', 'invoices', 'fx_rates') }},

-- each line's weight units in all, worked out per line (no window over its months): a full month is
-- month_weight_units() whatever its length (day_weight_units), a period's first and last months count their
-- days; a period inside one month is that month's days
line_periods as (
    select
        l.*,
        {{ month_start('l.service_start') }} = {{ month_start('l.service_end') }} as is_single_month,
        case
            when {{ month_start('l.service_start') }} = {{ month_start('l.service_end') }}
                then ({{ days_between('l.service_start', 'l.service_end') }} + 1)
                    * {{ day_weight_units(days_between(month_start('l.service_start'), add_months(month_start('l.service_start'), 1))) }}
            else {{ days_between('l.service_start', add_months(month_start('l.service_start'), 1)) }}
                    * {{ day_weight_units(days_between(month_start('l.service_start'), add_months(month_start('l.service_start'), 1))) }}
                + ({{ days_between(month_start('l.service_end'), 'l.service_end') }} + 1)
                    * {{ day_weight_units(days_between(month_start('l.service_end'), add_months(month_start('l.service_end'), 1))) }}
                + ({{ month_index('l.service_end') }} - {{ month_index('l.service_start') }} - 1) * {{ month_weight_units() }}
        end as line_weight_units
    from converted_lines as l
),

-- a period inside one calendar month (most lines) joins its month by equality; only longer periods
-- need the range join over the calendar
line_month_pairs as (
    select l.*, m.revenue_month, m.month_end, m.days_in_month
    from line_periods as l
    inner join months as m
        on m.revenue_month = {{ month_start('l.service_start') }}
    where l.is_single_month
    union all
    select l.*, m.revenue_month, m.month_end, m.days_in_month
    from line_periods as l
    inner join months as m
        on m.revenue_month >= {{ month_start('l.service_start') }}
        and m.revenue_month <= l.service_end
    where not l.is_single_month
),

line_months as (
    select
        l.invoice_line_id,
        l.invoice_id,
        l.account_id,
        l.invoice_date,
        l.currency,
        l.fx_rate,
        l.is_void,
        l.amount_reporting,
        l.source_loaded_at,
        l.line_weight_units,
        l.revenue_month,
        {{ float_divide(days_in_period, 'l.days_in_month') }} as month_weight,
        ({{ days_in_period }}) * {{ day_weight_units('l.days_in_month') }} as weight_units
    from line_month_pairs as l
),

final as (
    select
        invoice_line_id,
        invoice_id,
        account_id,
        invoice_date,
        currency,
        fx_rate,
        revenue_month,
        month_weight,
        case
            when is_void then cast(0 as {{ type_money() }})
            -- the whole amount (money_allocate(x, u, u) = x exactly) without the exact division
            when weight_units = line_weight_units then amount_reporting
            else {{ money_allocate('amount_reporting', 'weight_units', 'line_weight_units') }}
        end as recognised_revenue,
        source_loaded_at
    from line_months
)

select * from final
