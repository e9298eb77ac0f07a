{{ replace_by_key_config('activity_id') }}
-- A table replaced by key: a night re-ranks only the activities it loaded a version of (macro latest_version);
-- a table rather than a view since it is millions of rows read by the signals, its tests and the gate
-- (as a view every reader ranked every raw version again).
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
