{{ replace_by_key_config('invoice_id') }}
-- A table replaced by key: a night re-ranks only the invoices it loaded a version of (macro latest_version).
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
        {{ lineage_columns() }}
    from source
)

select * from final
