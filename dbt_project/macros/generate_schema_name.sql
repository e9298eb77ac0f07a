{#- Schemas are exactly the configured names (staging, intermediate, marts, ops, seeds), not
    <target_schema>_<custom>, so every consumer can rely on marts.dim_account etc. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
