-- Credit notes in the reporting currency (rate on or before credit_date), as negative revenue of their
-- own account in the month of credit_date. Grain: credit_note_id.
-- No rate on or before credit_date: `awaiting_fx` (revenue_reporting null), listed in
-- ops.revenue_awaiting_fx and held by a blocking test (docs/data-model.md, "Missing FX rates").
with credit_notes as (
    select * from {{ ref('stg_billing__credit_notes') }}
),

fx_rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
),

credit_rates as (
    {{ fx_rate_lookup('credit_notes', 'credit_note_id', 'credit_date', 'fx_rates') }}
),

final as (
    select
        c.credit_note_id,
        c.invoice_id,
        c.account_id,
        c.credit_date,
        {{ month_start('c.credit_date') }} as revenue_month,
        c.currency,
        c.amount,
        r.fx_rate,
        r.fx_rate_date,
        case when r.fx_rate is null then 'awaiting_fx' else 'converted' end as fx_status,
        -1 * {{ to_money("c.amount * r.fx_rate") }} as revenue_reporting
    from credit_notes as c
    left join credit_rates as r
        on r.credit_note_id = c.credit_note_id
)

select * from final
