-- Rows and files ingest set aside (raw.quarantine), without their content: the reason names file,
-- line, column and the rule broken, never the data, and the record's own text (raw_line) stays in the
-- build warehouse's raw.quarantine only, never published (it may hold personal data or, for a rejected
-- file, anything at all).
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
        batch_id,
        quarantined_at
    from quarantine
)

select * from final
