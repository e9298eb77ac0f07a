with source as (
    {{ latest_version(source('billing', 'invoices'), ['invoice_id']) }}
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        due_date,
        upper(trim(currency)) as currency,
        lower(status) as status,
        lower(status) = 'void' as is_void,
        updated_at,
    _extract_day,
    _line_number,
    _source_file,
    _loaded_at
    from source
)

select * from final
