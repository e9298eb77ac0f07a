{#- The current version of each record in a delta-loaded raw table: latest updated_at; ties go to the
    later extract day, then the higher line number. Adds nothing; callers select the columns. -#}
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
) as ranked
where _version_rank = 1
{%- endmacro %}
