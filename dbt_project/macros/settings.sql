{#- Reporting currency: var `reporting_currency`, else env KAM_REPORTING_CURRENCY, else CNY.
    Amounts already in it need no FX row. -#}
{% macro reporting_currency() -%}
    {{ return(var('reporting_currency', env_var('KAM_REPORTING_CURRENCY', 'CNY')) | upper) }}
{%- endmacro %}

{#- A month's ordinal (year * 12 + month - 1): month arithmetic as integer arithmetic on every adapter. -#}
{% macro month_index(date_expr) -%}
    (cast(extract(year from {{ date_expr }}) as integer) * 12 + cast(extract(month from {{ date_expr }}) as integer) - 1)
{%- endmacro %}

{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{% macro add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{% macro add_months(date_expr, months) -%}
    cast({{ dbt.dateadd('month', months, date_expr) }} as date)
{%- endmacro %}

{#- One-way hash for personal data (contacts): staging keeps only the digest. -#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii')(column)) }}
{%- endmacro %}

{% macro default__hash_pii(column) -%}
    case when {{ column }} is null then null else sha256(lower(trim({{ column }}))) end
{%- endmacro %}

{% macro postgres__hash_pii(column) -%}
    case when {{ column }} is null then null
         else encode(sha256(convert_to(lower(trim({{ column }})), 'UTF8')), 'hex') end
{%- endmacro %}

{#- Days from a to b (b - a) as an integer. -#}
{% macro days_between(a, b) -%}
    cast({{ dbt.datediff(a, b, 'day') }} as integer)
{%- endmacro %}
