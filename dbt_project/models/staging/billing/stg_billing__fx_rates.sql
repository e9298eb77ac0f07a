with source as (
    {{ latest_version(source('billing', 'fx_rates'), ['rate_date', 'currency'], order_column=none) }}
),

final as (
    select
        rate_date,
        upper(trim(currency)) as currency,
        cast(rate_to_reporting as {{ type_rate() }}) as rate_to_reporting,
        {{ lineage_columns() }}
    from source
)

select * from final
