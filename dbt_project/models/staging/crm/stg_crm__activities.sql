with source as (
    {{ latest_version(source('crm', 'activities'), ['activity_id']) }}
),

final as (
    select
        activity_id,
        account_id,
        lower(activity_type) as activity_type,
        activity_date,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
