-- What was loaded from the landing zone, file by file (raw.load_manifest) for engineers and BI.
with manifest as (
    select * from {{ source('raw_ops', 'load_manifest') }}
),

final as (
    select * from manifest
)

select * from final
