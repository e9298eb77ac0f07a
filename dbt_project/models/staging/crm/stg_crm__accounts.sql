with source as (
    {{ latest_version(source('crm', 'accounts'), ['account_id']) }}
),

final as (
    select
        account_id,
        account_name,
        nullif(trim(parent_account_id), '') as parent_account_id,
        nullif(trim(merged_into_account_id), '') as merged_into_account_id,
        industry,
        region,
        segment,
        lower(customer_type) as customer_type,
        account_manager,
        cast(estimated_annual_budget as {{ type_money() }}) as estimated_annual_budget,
        is_reference_customer,
        created_at,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
