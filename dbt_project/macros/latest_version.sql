{#- The current version of each record in a delta-loaded raw table: latest updated_at; ties go to the
    later extract day, then the higher line number. Adds nothing; callers select the columns.

    In an incremental run of the calling model (a staging table keyed on `key_columns`), only the keys
    with a version loaded after the model's watermark (the latest `_loaded_at` it holds) are ranked, over
    all their versions; replacing those keys (replace_by_key_strategy) keeps every other key as it was.
    The watermark never passes a version not yet seen: raw is append-only and loaded before dbt runs. -#}
{% macro latest_version(relation, key_columns, order_column='updated_at') -%}
select *
from (
    select
        versions.*,
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by
                {% if order_column %}{{ order_column }} desc nulls last,{% endif %}
                _extract_day desc,
                _line_number desc
        ) as _version_rank
    from {{ relation }} as versions
    {%- if is_incremental() %}
    where exists (
        select 1
        from {{ relation }} as loaded
        where loaded._loaded_at > (select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }})
            {%- for key in key_columns %}
            and loaded.{{ key }} = versions.{{ key }}
            {%- endfor %}
    )
    {%- endif %}
) as ranked
where _version_rank = 1
{%- endmacro %}
