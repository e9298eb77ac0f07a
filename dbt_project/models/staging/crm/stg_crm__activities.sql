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
    _extract_day,
    _line_number,
    _source_file,
    _loaded_at
    from source
)

select * from final
