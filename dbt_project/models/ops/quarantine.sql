-- Rows and files ingest set aside (raw.quarantine). The raw line of a CRM contact row holds personal
-- data, so it is withheld here (the serving warehouse never carries contact PII).
with quarantine as (
    select * from {{ source('raw_ops', 'quarantine') }}
),

final as (
    select
        file_path,
        source,
        entity,
        extract_day,
        line_number,
        column_name,
        reason,
        case when source = 'crm' and entity = 'contacts' then null else raw_line end as raw_line,
        batch_id,
        quarantined_at
    from quarantine
)

select * from final
