-- Invoice lines with their invoice's account, date and status, and the amount in the reporting
-- currency at the latest rate on or before the invoice date. Grain: invoice_line_id.
-- A line whose currency has no rate on or before its date is `awaiting_fx` (fx_rate and
-- amount_reporting null): it recognises nothing until the rate arrives, ops.revenue_awaiting_fx lists
-- it and a blocking test holds the night (docs/data-model.md, "Missing FX rates").
with lines as (
    select * from {{ ref('stg_billing__invoice_lines') }}
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }}
),

fx_rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
),

invoice_rates as (
    {{ fx_rate_lookup('invoices', 'invoice_id', 'invoice_date', 'fx_rates') }}
),

final as (
    select
        l.invoice_line_id,
        l.invoice_id,
        i.account_id,
        i.invoice_date,
        i.currency,
        i.is_void,
        l.amount,
        r.fx_rate,
        r.fx_rate_date,
        case when r.fx_rate is null then 'awaiting_fx' else 'converted' end as fx_status,
        {{ to_money("l.amount * r.fx_rate") }} as amount_reporting,
        l.service_start,
        greatest(l.service_end, l.service_start) as service_end,
        greatest(l._loaded_at, i._loaded_at) as source_loaded_at
    from lines as l
    inner join invoices as i
        on i.invoice_id = l.invoice_id
    left join invoice_rates as r
        on r.invoice_id = l.invoice_id
)

select * from final
