-- Reconciliation before conversion, per currency and document kind: every source amount (staging,
-- in the document's own currency) is either recognised in full (the line's months add up to its
-- converted amount; the credit note has its converted amount) or held as awaiting_fx. What is neither
-- was lost on the way (a dropped line, a line outside the month calendar, a null conversion): the
-- currency shows here with the amount lost. The checks after conversion cannot see such a loss, since
-- both of their sides miss the same rows. Void invoices recognise nothing and are left out. Cheap: one
-- aggregate per model (the line revenue carries each line's rate, so no rate is looked up again).
-- Returns the currencies that do not reconcile.
-- On a narrow night only the lines a night can move are reconciled (macro invoice_line_moved_since in
-- macros/tests/test_scope.sql: lines or invoices with a version loaded after the tested watermark, and
-- lines of invoices dated on or after a rate loaded since in their currency; every other line's months
-- are the ones an earlier passing build reconciled). Credit notes are few: always all of them.
-- depends_on: {{ ref('stg_billing__fx_rates') }}
{%- set since = test_scope_since() %}
with invoices as (
    select invoice_id, currency from {{ ref('stg_billing__invoices') }} where not is_void
),
source_lines as (
    -- lines of known invoices (an orphan line fails the relationships test of stg_billing__invoice_lines)
    select l.invoice_line_id, i.currency, l.amount
    from {{ ref('stg_billing__invoice_lines') }} as l
    inner join invoices as i
        on i.invoice_id = l.invoice_id
    {%- if since %}
    where {{ invoice_line_moved_since(since, 'l', ref('stg_billing__invoices'), ref('stg_billing__fx_rates')) }}
    {%- endif %}
),

-- each line's months: their sum and the rate the line was converted at (null while awaiting_fx)
recognised_lines as (
    select invoice_line_id, sum(recognised_revenue) as recognised, max(fx_rate) as fx_rate
    from {{ ref('int_invoice_line_revenue') }}
    {%- if since %}
    where invoice_line_id in (select invoice_line_id from source_lines)
    {%- endif %}
    group by invoice_line_id
),

line_fates as (
    select
        'invoice_line' as document_kind,
        s.currency,
        s.amount,
        case
            when r.invoice_line_id is not null and r.fx_rate is null then 'held'
            when abs(r.recognised - {{ to_money('s.amount * r.fx_rate') }}) < 0.00001 then 'recognised'
            else 'lost'
        end as fate
    from source_lines as s
    left join recognised_lines as r
        on r.invoice_line_id = s.invoice_line_id
),

credit_fates as (
    select
        'credit_note' as document_kind,
        s.currency,
        s.amount,
        case
            when c.fx_status = 'awaiting_fx' then 'held'
            when c.revenue_reporting is not null then 'recognised'
            else 'lost'
        end as fate
    from {{ ref('stg_billing__credit_notes') }} as s
    left join {{ ref('int_credit_notes_converted') }} as c
        on c.credit_note_id = s.credit_note_id
),

per_currency as (
    select
        document_kind,
        currency,
        sum(amount) as source_amount,
        sum(case when fate = 'recognised' then amount else 0 end) as recognised_amount,
        sum(case when fate = 'held' then amount else 0 end) as held_amount,
        sum(case when fate = 'lost' then 1 else 0 end) as lost_documents
    from (
        select * from line_fates
        union all
        select * from credit_fates
    ) as fates
    group by document_kind, currency
)

select
    document_kind,
    currency,
    source_amount,
    recognised_amount,
    held_amount,
    source_amount - recognised_amount - held_amount as lost_amount,
    lost_documents
from per_currency
where lost_documents > 0
