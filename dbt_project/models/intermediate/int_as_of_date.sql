-- The as-of date: the latest loaded extract day, or var('as_of_date') when given. One row.
with manifest as (
    select extract_day from {{ source('raw_ops', 'load_manifest') }} where status = 'loaded'
),

as_of as (
    select
        {%- if var('as_of_date', none) %}
        cast('{{ var("as_of_date") }}' as date) as as_of_date
        {%- else %}
        cast(max(extract_day) as date) as as_of_date
        {%- endif %}
    from manifest
),

final as (
    select
        as_of_date,
        {{ month_start('as_of_date') }} as as_of_month,
        {{ month_index('as_of_date') }} as as_of_month_index
    from as_of
)

select * from final
