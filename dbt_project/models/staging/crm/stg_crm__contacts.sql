-- Personal data (name, e-mail, phone) is kept only as a sha256 digest; it never reaches a mart.
with source as (
    {{ latest_version(source('crm', 'contacts'), ['contact_id']) }}
),

final as (
    select
        contact_id,
        account_id,
        {{ hash_pii('full_name') }} as full_name_sha256,
        {{ hash_pii('email') }} as email_sha256,
        {{ hash_pii('phone') }} as phone_sha256,
        role,
        is_primary,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
