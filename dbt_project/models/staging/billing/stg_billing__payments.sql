with source as (
    {{ latest_version(source('billing', 'payments'), ['payment_id']) }}
),

final as (
    select
        payment_id,
        invoice_id,
        account_id,
        payment_date,
        upper(trim(currency)) as currency,
        cast(amount as {{ type_money() }}) as amount,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
