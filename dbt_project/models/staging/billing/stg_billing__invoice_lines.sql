with source as (
    {{ latest_version(source('billing', 'invoice_lines'), ['invoice_line_id']) }}
),

final as (
    select
        invoice_line_id,
        invoice_id,
        product_code,
        description,
        cast(quantity as double) as quantity,
        cast(unit_price as double) as unit_price,
        cast(amount as double) as amount,
        service_start,
        service_end,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
