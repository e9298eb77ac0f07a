with source as (
    {{ latest_version(source('crm', 'opportunities'), ['opportunity_id']) }}
),

final as (
    select
        opportunity_id,
        account_id,
        lower(stage) as stage,
        lower(stage) not in ('won', 'lost') as is_open,
        cast(amount as {{ type_money() }}) as amount,
        upper(trim(currency)) as currency,
        cast(probability as {{ type_rate() }}) as probability,
        expected_close_date,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
