{{ config(materialized='view') }}
-- Invoice lines with their invoice's account, date and status, and the amount in the reporting
-- currency at the latest rate on or before the invoice date. Grain: invoice_line_id.
-- A line whose currency has no rate on or before its date is `awaiting_fx` (fx_rate and
-- amount_reporting null): it recognises nothing until the rate arrives (docs/data-model.md, "Missing
-- FX rates"). A view for readers and checks: int_invoice_line_revenue converts and spreads in one pass
-- with the same macro (convert_invoice_lines), so no table is rebuilt only to be read once.
with lines as (
    select * from {{ ref('stg_billing__invoice_lines') }}
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }}
),

fx_rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
),

{{ convert_invoice_lines('lines', 'invoices', 'fx_rates') }},

final as (
    select
        invoice_line_id,
        invoice_id,
        account_id,
        invoice_date,
        currency,
        is_void,
        amount,
        fx_rate,
        fx_rate_date,
        fx_status,
        amount_reporting,
        service_start,
        service_end,
        source_loaded_at
    from converted_lines
)

select * from final
