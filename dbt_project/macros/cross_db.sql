{#- Cross-database building blocks: every SQL construct that differs between DuckDB, PostgreSQL and
    Spark lives here (or in dbt's own cross-database macros), dispatched on the adapter. Models call
    these instead of writing engine syntax. See docs/scale-out.md.

    Money rule (docs/data-model.md): amounts are DECIMAL(38, 6) from conversion onwards; every step that
    can produce more decimals (a product, a split) rounds half away from zero to 6 decimals, with exact
    arithmetic on every engine, so sums are exact and independent of summation order. -#}

{#- 8-byte floating point (ratios, shares, scores). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}

{% macro spark__type_double() -%}double{%- endmacro %}

{#- The money type: exact decimal with the fixed scale 6. -#}
{% macro type_money() -%}decimal(38, 6){%- endmacro %}

{#- FX rates and probabilities: exact decimal with the raw scale 8. -#}
{% macro type_rate() -%}decimal(38, 8){%- endmacro %}

{#- An exact expression (a product of decimals) rounded half away from zero to the money scale. -#}
{% macro to_money(expr) -%}
    cast(round({{ expr }}, 6) as {{ type_money() }})
{%- endmacro %}

{#- A decimal or integer expression as a float, e.g. for a share: to_double(a) / to_double(b). -#}
{% macro to_double(expr) -%}
    cast({{ expr }} as {{ type_double() }})
{%- endmacro %}

{#- Float quotient a / b, null when b is 0 (never integer division, never decimal division). -#}
{% macro float_divide(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0)
{%- endmacro %}

{#- money × part / whole, rounded half away from zero to the money scale, computed exactly with integer
    division (`part` and `whole` are positive integer expressions, `money` has at most 6 decimals).
    DuckDB divides decimals in floating point and PostgreSQL to a limited number of digits, so each
    engine gets its exact integer quotient: DuckDB hugeint `//`, PostgreSQL numeric `div`, Spark a
    decimal quotient corrected by its remainder. -#}
{% macro money_allocate(money, part, whole) -%}
    {{ return(adapter.dispatch('money_allocate')(money, part, whole)) }}
{%- endmacro %}

{% macro default__money_allocate(money, part, whole) -%}
    cast(
        cast(
            sign({{ money }})
            * ((2 * abs(cast({{ money }} * 1000000 as hugeint)) * ({{ part }}) + ({{ whole }})) // (2 * ({{ whole }})))
            as decimal(38, 0)
        ) * cast(0.000001 as {{ type_money() }})
        as {{ type_money() }}
    )
{%- endmacro %}

{% macro postgres__money_allocate(money, part, whole) -%}
    cast(
        sign({{ money }})
        * div(2 * abs({{ money }} * 1000000) * ({{ part }}) + ({{ whole }}), 2 * ({{ whole }}))
        * 0.000001
        as {{ type_money() }}
    )
{%- endmacro %}

{% macro spark__money_allocate(money, part, whole) -%}
    {%- set n -%}(2 * abs(cast({{ money }} * 1000000 as decimal(38, 0))) * ({{ part }}) + ({{ whole }})){%- endset -%}
    {%- set d -%}cast(2 * ({{ whole }}) as decimal(38, 0)){%- endset -%}
    {%- set q0 -%}floor({{ n }} / {{ d }}){%- endset -%}
    cast(
        case when {{ money }} < 0 then -1 else 1 end  -- Spark's sign() is a double
        * ({{ q0 }} + case when {{ n }} - {{ q0 }} * {{ d }} >= {{ d }} then 1
                           when {{ n }} - {{ q0 }} * {{ d }} < 0 then -1 else 0 end)
        * cast(0.000001 as {{ type_money() }})
        as {{ type_money() }}
    )
{%- endmacro %}

{#- Weight units per day of a month with `days_in_month` days: 377580 (= lcm of 28, 29, 30, 31) / days,
    an integer, so a service period's month weights (days in month / days of month) are exact integers
    on a common denominator. -#}
{% macro day_weight_units(days_in_month) -%}
    case {{ days_in_month }} when 28 then 13485 when 29 then 13020 when 30 then 12586 when 31 then 12180 end
{%- endmacro %}

{#- Weight units of a whole month, whatever its length: days_in_month * day_weight_units(days_in_month). -#}
{% macro month_weight_units() -%}
    377580
{%- endmacro %}

{#- A quoted column name (e.g. `window`, a reserved word) in the adapter's quoting. -#}
{% macro quoted(name) -%}
    {{ return(adapter.quote(name)) }}
{%- endmacro %}

{#- The integers 0 .. 10^digits - 1 as column `n` (a select; no recursion, no generate_series). -#}
{% macro integer_series(digits=4) -%}
    select
        {%- for i in range(digits) %}
        d{{ i }}.d * {{ 10 ** i }}{% if not loop.last %} +{% endif %}
        {%- endfor %} as n
    from
        {%- for i in range(digits) %}
        (
            {%- for v in range(10) %}
            select {{ v }} as d{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as d{{ i }}{% if not loop.last %}
        cross join{% endif %}
        {%- endfor %}
{%- endmacro %}

{#- Incremental strategy that replaces every row of a changed key: delete+insert where the adapter has
    it (DuckDB, PostgreSQL); merge on Spark, which needs a table format with row-level changes. -#}
{% macro replace_by_key_strategy() -%}
    {{ return(adapter.dispatch('replace_by_key_strategy')()) }}
{%- endmacro %}

{% macro default__replace_by_key_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__replace_by_key_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{#- Spark table format (var spark_file_format, default parquet: Delta/Iceberg/Hudi need jars from Maven,
    which an offline session cannot fetch); none on the other adapters. -#}
{% macro spark_table_format() -%}
    {{ return(var('spark_file_format', 'parquet') if target.type == 'spark' else none) }}
{%- endmacro %}

{#- Materialisation of a model that replaces rows by key: incremental where the engine can (DuckDB,
    PostgreSQL, Spark with Delta/Iceberg/Hudi), else a table rebuilt in full each run (plain Parquet
    on Spark has no row-level merge; the result is the same rows). -#}
{% macro replace_by_key_materialization() -%}
    {%- if target.type == 'spark' and spark_table_format() not in ('delta', 'iceberg', 'hudi') -%}
        {{ return('table') }}
    {%- endif -%}
    {{ return('incremental') }}
{%- endmacro %}

{#- The config of a model replaced by key (incremental where the engine can, see
    replace_by_key_materialization), with an optional pre-hook (a Jinja string rendered at run time). -#}
{% macro replace_by_key_config(unique_key, pre_hook=none) -%}
    {%- if pre_hook -%}
        {{ config(materialized=replace_by_key_materialization(), unique_key=unique_key,
                  incremental_strategy=replace_by_key_strategy(), file_format=spark_table_format(),
                  on_schema_change='fail', pre_hook=pre_hook) }}
    {%- else -%}
        {{ config(materialized=replace_by_key_materialization(), unique_key=unique_key,
                  incremental_strategy=replace_by_key_strategy(), file_format=spark_table_format(),
                  on_schema_change='fail') }}
    {%- endif -%}
{%- endmacro %}

{#- When this dbt run started (dbt's run_started_at, UTC) as a timestamp literal: a build-time stamp on
    rows a run (re)builds, comparable with raw `_loaded_at` (also UTC). -#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
