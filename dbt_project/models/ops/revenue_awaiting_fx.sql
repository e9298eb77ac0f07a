-- Invoice lines and credit notes held out of revenue because their currency has no FX rate on or
-- before their date (fx_status = 'awaiting_fx'), per document kind, currency and date, with the amount
-- in the document currency. Void invoices recognise nothing and need no rate. Empty on a sound night:
-- the blocking test assert_no_revenue_awaiting_fx holds tiers and publish while it is not, and a late
-- rate reprocesses the lines (int_invoice_line_revenue is incremental on late rates).
-- An invoice in another currency than the reporting one has no rate on or before its date exactly when
-- it is dated before its currency's first rate (or the currency has none): one aggregate of the rates,
-- no rate lookup per line (int_invoice_lines_converted gives the same fx_status line by line).
with first_rates as (
    select currency, min(rate_date) as first_rate_date
    from {{ ref('stg_billing__fx_rates') }}
    group by currency
),

held_invoices as (
    select i.invoice_id, i.currency, i.invoice_date
    from {{ ref('stg_billing__invoices') }} as i
    left join first_rates as f
        on f.currency = i.currency
    where not i.is_void
        and (i.currency is null or i.currency <> '{{ reporting_currency() }}')
        and (f.first_rate_date is null or i.invoice_date is null or i.invoice_date < f.first_rate_date)
),

credit_notes as (
    select * from {{ ref('int_credit_notes_converted') }}
),

held as (
    select 'invoice_line' as document_kind, h.currency, h.invoice_date as document_date, l.amount
    from {{ ref('stg_billing__invoice_lines') }} as l
    inner join held_invoices as h
        on h.invoice_id = l.invoice_id
    union all
    select 'credit_note', currency, credit_date, amount
    from credit_notes
    where fx_status = 'awaiting_fx'
),

final as (
    select
        document_kind,
        currency,
        document_date,
        count(*) as documents,
        sum(amount) as amount
    from held
    group by document_kind, currency, document_date
)

select * from final
