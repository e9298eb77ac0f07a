{{ replace_by_key_config('invoice_line_id') }}
-- A table replaced by key: a night re-ranks only the lines it loaded a version of (macro latest_version).
with source as (
    {{ latest_version(source('billing', 'invoice_lines'), ['invoice_line_id']) }}
),

final as (
    select
        invoice_line_id,
        invoice_id,
        product_code,
        description,
        cast(quantity as {{ type_money() }}) as quantity,
        cast(unit_price as {{ type_money() }}) as unit_price,
        cast(amount as {{ type_money() }}) as amount,
        service_start,
        service_end,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
