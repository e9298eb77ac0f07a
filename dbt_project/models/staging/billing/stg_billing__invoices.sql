{{
    config(
        materialized=replace_by_key_materialization(),
        unique_key='invoice_id',
        incremental_strategy=replace_by_key_strategy(),
        file_format=spark_table_format(),
        on_schema_change='fail'
    )
}}
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
