{{ replace_by_key_config('payment_id') }}
-- A table replaced by key: a night re-ranks only the payments it loaded a version of (macro latest_version);
-- a table rather than a view since it is millions of rows read by the signals, its tests and the gate
-- (as a view every reader ranked every raw version again).
with source as (
    {{ latest_version(source('billing', 'payments'), ['payment_id']) }}
),

final as (
    select
        payment_id,
        invoice_id,
        account_id,
        payment_date,
        upper(trim(currency)) as currency,
        cast(amount as {{ type_money() }}) as amount,
        updated_at,
        {{ lineage_columns() }}
    from source
)

select * from final
