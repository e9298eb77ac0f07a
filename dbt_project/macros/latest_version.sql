{#- The current version of each record in a delta-loaded raw table: latest updated_at; ties go to the
    later extract day, then the higher line number. Adds nothing; callers select the columns.

    In an incremental run of the calling model (a staging table keyed on `key_columns`), only the keys
    with a version loaded after the model's watermark (the latest `_loaded_at` it holds) are ranked, over
    all their versions; replacing those keys (replace_by_key_strategy) keeps every other key as it was.
    The watermark never passes a version not yet seen: raw is append-only and loaded before dbt runs.

    Only keys with more than one version are sorted: a key seen once (nearly every key of a book) is its
    own latest version and passes through without the window (at 10.6M invoice lines, 1,341 repeated
    keys: the full staging build 16 -> 11 s, a plain copy of the table being 7.4 s). A row with a null
    key column goes to the ranked branch, so the rows are exactly the window's over every row. -#}
{% macro latest_version(relation, key_columns, order_column='updated_at') -%}
{%- set keys = key_columns | join(', ') -%}
{%- set is_repeated -%}
    exists (
        select 1
        from repeated
        where {% for key in key_columns %}repeated.{{ key }} = v.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
{%- endset -%}
select *
from (
    with candidates as (
        select *
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
    ),

    repeated as (
        select {{ keys }}
        from candidates
        group by {{ keys }}
        having count(*) > 1
    )

    select v.*, 1 as _version_rank
    from candidates as v
    where {% for key in key_columns %}v.{{ key }} is not null and {% endfor %}not {{ is_repeated }}
    union all
    select
        v.*,
        row_number() over (
            partition by {% for key in key_columns %}v.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
            order by
                {% if order_column %}v.{{ order_column }} desc nulls last,{% endif %}
                v._extract_day desc,
                v._line_number desc
        ) as _version_rank
    from candidates as v
    where {% for key in key_columns %}v.{{ key }} is null or {% endfor %}{{ is_repeated }}
) as ranked
where _version_rank = 1
{%- endmacro %}
