{#- Generic tests (no dbt packages offline). Each returns the failing rows. -#}

{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
select * from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {% if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
    {% if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
  )
{% endtest %}

{#- Columns are quoted through the adapter (`window` is a reserved word; '"window"' would be a string
    literal on Spark, so surrounding double quotes are dropped before quoting). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns = [] -%}
{%- for c in combination_of_columns %}{% do columns.append(adapter.quote(c.strip('"'))) %}{% endfor -%}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
