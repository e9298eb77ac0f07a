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
    _extract_day,
    _line_number,
    _source_file,
    _loaded_at
    from source
)

select * from final
