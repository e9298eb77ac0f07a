{#- Invoice lines joined to their invoice and converted to the reporting currency at the invoice's rate
    (the latest rate on or before invoice_date, fx_rate_lookup; once per invoice, not per line).

    `lines` has invoice_line_id, invoice_id, amount, service_start, service_end, _loaded_at (a staging
    select); `invoices` has invoice_id, account_id, invoice_date, currency, is_void, _loaded_at; `rates`
    is stg_billing__fx_rates. Emits CTEs invoice_rates and converted_lines (one row per line of a known
    invoice): the line, its invoice's account / date / currency / void flag, fx_rate, fx_rate_date,
    fx_status (awaiting_fx when no rate exists), amount_reporting (exact, rounded half away from zero to
    the money scale; null while awaiting_fx), service_end never before service_start, and
    source_loaded_at (the later of the line's and the invoice's load). The body of
    int_invoice_lines_converted and the first step of int_invoice_line_revenue (convert and spread in
    one pass). -#}
{% macro convert_invoice_lines(lines, invoices, rates) -%}
invoice_rates as (
    {{ fx_rate_lookup(invoices, 'invoice_id', 'invoice_date', rates) }}
),

converted_lines as (
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
        -- a rate of 1 (the reporting currency) keeps the amount: the same value without a product
        case when r.fx_rate = 1 then l.amount else {{ to_money("l.amount * r.fx_rate") }} end as amount_reporting,
        l.service_start,
        greatest(l.service_end, l.service_start) as service_end,
        greatest(l._loaded_at, i._loaded_at) as source_loaded_at
    from {{ lines }} as l
    inner join {{ invoices }} as i
        on i.invoice_id = l.invoice_id
    left join invoice_rates as r
        on r.invoice_id = l.invoice_id
)
{%- endmacro %}
