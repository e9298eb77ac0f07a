{#- The lineage columns every raw row carries (ingest.contract.LINEAGE_COLUMNS except the batch id),
    passed through by the staging models so a staged record points back to its file and line. -#}
{% macro lineage_columns() -%}
_extract_day,
        _line_number,
        _source_file,
        _loaded_at
{%- endmacro %}
