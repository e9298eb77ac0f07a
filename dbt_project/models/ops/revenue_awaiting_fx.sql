-- Invoice lines and credit notes held out of revenue because their currency has no FX rate on or
-- before their date (fx_status = 'awaiting_fx'), per document kind, currency and date, with the amount
-- in the document currency. Void invoices recognise nothing and need no rate. Empty on a sound night:
-- the blocking test assert_no_revenue_awaiting_fx holds tiers and publish while it is not, and a late
-- rate reprocesses the lines (int_invoice_line_revenue is incremental on late rates).
with lines as (
    select * from {{ ref('int_invoice_lines_converted') }}
),

credit_notes as (
    select * from {{ ref('int_credit_notes_converted') }}
),

held as (
    select 'invoice_line' as document_kind, currency, invoice_date as document_date, amount
    from lines
    where fx_status = 'awaiting_fx' and not is_void
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
