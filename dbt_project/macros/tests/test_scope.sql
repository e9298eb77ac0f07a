{#- Tests over what a night changed (issue 17; kam_warehouse.test_scope decides the scope).

    A full-scope build (the first, a full refresh, a changed project or engine, the periodic pass of
    `build.full_tests_every_days`) tests every row. On a narrow night kam sets KAM_TEST_SCOPE_SINCE to the tested watermark: the latest raw
    batch a build had seen whose tests the quality gate then passed. Every row a test could fail on
    that the rows of that build could not is then one whose key has a raw version loaded after the
    watermark, so the generic tests of a model marked with

        config: {meta: {test_scope: {source: '<source>.<table>', key: '<key column>'}}}

    read only the rows of those keys (a duplicate among them shows whatever the other row's age; a
    relationships test checks the new children against every parent). The model must be one whose rows
    change only with a new raw version of their key: every staging model over a delta-loaded raw table
    with a one-column key (the two tables replaced by key and the views, each the latest version of its
    raw rows, joined to nothing; a key never leaves staging, so an old child's parent is still there).
    The singular reconciliation test narrows itself the same way (test_scope_since()).

    The scope is read at execution time (`execute`), never while parsing: a new watermark each night
    must not force dbt to re-parse the project. -#}

{#- The tested watermark as a SQL timestamp, or none on a full-scope build. -#}
{% macro test_scope_since() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set since = env_var('KAM_TEST_SCOPE_SINCE', '') | trim -%}
    {%- if not since -%}{{ return(none) }}{%- endif -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?$', since) -%}
        {{ exceptions.raise_compiler_error("KAM_TEST_SCOPE_SINCE must be a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff]), got '" ~ since ~ "'") }}
    {%- endif -%}
    {{ return("cast('" ~ since.replace('T', ' ') ~ "' as timestamp)") }}
{%- endmacro %}

{#- The narrowing predicate for the model a generic test reads (none: test every row). -#}
{% macro test_scope_predicate() -%}
    {%- set since = test_scope_since() -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') if since else none -%}
    {%- set scope = (tested.config.meta or {}).get('test_scope') if tested else none -%}
    {%- if not scope -%}{{ return(none) }}{%- endif -%}
    {%- set source_name, table_name = scope.source.split('.') -%}
    {%- set source_node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set key = adapter.quote(scope.key) -%}
    {{ return(key ~ ' in (select ' ~ key ~ ' from ' ~ source_node.relation_name ~ ' where _loaded_at > ' ~ since ~ ')') }}
{%- endmacro %}

{#- dbt's get_where_subquery (every generic test reads its model through it) with the test's `where`
    config and the night's scope. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- if config.get('where') %}{% do clauses.append('(' ~ config.get('where') ~ ')') %}{% endif -%}
    {%- set scope = test_scope_predicate() -%}
    {%- if scope %}{% do clauses.append(scope) %}{% endif -%}
    {%- if clauses -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ clauses | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}
