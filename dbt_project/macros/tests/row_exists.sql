{#- Fails (one row) when `model` has no row whose `column` equals `value`, e.g. a seed's `default` row. -#}
{% test row_exists(model, column, value) %}
select '{{ value }}' as missing_value
where not exists (select 1 from {{ model }} where {{ column }} = '{{ value }}')
{% endtest %}
