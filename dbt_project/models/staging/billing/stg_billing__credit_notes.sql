with source as (
    {{ latest_version(source('billing', 'credit_notes'), ['credit_note_id']) }}
),

final as (
    select
        credit_note_id,
        invoice_id,
        account_id,
        credit_date,
        upper(trim(currency)) as currency,
        cast(amount as {{ type_money() }}) as amount,
        reason,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
