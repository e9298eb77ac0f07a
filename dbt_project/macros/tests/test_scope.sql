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
    with a one-column key (the four tables replaced by key and the views, each the latest version of its
    raw rows, joined to nothing; a key never leaves staging, so an old child's parent is still there).
    The singular reconciliation test narrows itself the same way (test_scope_since()).

    The scope is read at execution time (`execute`), never while parsing: a new watermark each night
    must not force dbt to re-parse the project. -#}

{#- The tested watermark as a SQL timestamp, or none on a full-scope build. -#}
{% macro test_scope_since() -%}
    {{ return(scope_timestamp_env('KAM_TEST_SCOPE_SINCE')) }}
{%- endmacro %}

{#- When the build that passed the gate at the watermark had finished (a SQL timestamp), for rows a build
    stamps with its start (int_concentration_ranked.ranked_at): every row stamped after it was built since,
    every older one was tested by that build or one before it. The watermark when not set (a record
    written before the field existed: older than needed, never too new); none on a full-scope build. -#}
{% macro test_scope_built_since() -%}
    {%- set since = test_scope_since() -%}
    {%- if since is none -%}{{ return(none) }}{%- endif -%}
    {{ return(scope_timestamp_env('KAM_TEST_SCOPE_BUILT_SINCE') or since) }}
{%- endmacro %}

{#- Environment variable `name` as a SQL timestamp literal; none when empty or while parsing. -#}
{% macro scope_timestamp_env(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set value = env_var(name, '') | trim -%}
    {%- if not value -%}{{ return(none) }}{%- endif -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?$', value) -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff]), got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return("cast('" ~ value.replace('T', ' ') ~ "' as timestamp)") }}
{%- endmacro %}

{#- Whether invoice line `l` (an alias of stg_billing__invoice_lines) is one a night can move since
    `since`: the line or its invoice has a version loaded since, or its invoice is dated on or after a
    rate of its currency loaded since (what int_invoice_line_revenue reprocesses; every other line's
    months are the ones an earlier passing build tested). `invoices`, `rates`: the staging relations. -#}
{% macro invoice_line_moved_since(since, l, invoices, rates) -%}
    ({{ l }}._loaded_at > {{ since }}
        or {{ l }}.invoice_id in (
            select i.invoice_id
            from {{ invoices }} as i
            left join (
                select currency, min(rate_date) as first_rate_date
                from {{ rates }}
                where _loaded_at > {{ since }}
                group by currency
            ) as late_rates
                on late_rates.currency = i.currency
            where i._loaded_at > {{ since }}
                or i.invoice_date >= late_rates.first_rate_date
        ))
{%- endmacro %}

{#- The narrowing predicate for the model a generic test reads (none: test every row). A model marked
    `test_scope: {moved_invoice_lines: <line key column>}` (int_invoice_line_revenue, whose rows change
    with their line, their invoice or a late rate) reads the rows of the lines a night can move; one marked
    `test_scope: {ranked_partitions: <window column>}` (int_concentration_ranked and the marts that list
    its rows one for one) reads the partitions int_concentration_ranked ranked since the last build that
    passed the gate finished (test_scope_built_since). -#}
{% macro test_scope_predicate() -%}
    {%- set since = test_scope_since() -%}
    {%- set scope = tested_model_scope() if since else none -%}
    {%- if not scope -%}{{ return(none) }}{%- endif -%}
    {%- if scope.ranked_partitions -%}
        {#- by partition (month × level × window): every row of a partition ranked since the last build
            that passed the gate (test_scope_built_since). A partition is deleted and ranked whole, so a
            kept one is as a passing build tested it (its ranked_at is older, or null: kept from before
            the column). PostgreSQL and Spark rank every
            partition every run: nothing to narrow. -#}
        {%- if target.type != 'duckdb' -%}{{ return(none) }}{%- endif -%}
        {%- set ranked = graph.nodes['model.' ~ project_name ~ '.int_concentration_ranked'].relation_name -%}
        {{ return('(revenue_month, level, ' ~ adapter.quote(scope.ranked_partitions) ~ ') in (select revenue_month, '
                  ~ 'level, time_window from ' ~ ranked ~ ' where ranked_at > ' ~ test_scope_built_since() ~ ')') }}
    {%- endif -%}
    {%- if scope.moved_invoice_lines -%}
        {#- by key (the line's every row, whatever its age: a duplicate is found as on the staging tables) -#}
        {%- set staging = 'model.' ~ project_name ~ '.stg_billing__' -%}
        {%- set moved = invoice_line_moved_since(since, 'l', graph.nodes[staging ~ 'invoices'].relation_name,
                graph.nodes[staging ~ 'fx_rates'].relation_name) -%}
        {{ return(adapter.quote(scope.moved_invoice_lines) ~ ' in (select l.invoice_line_id from '
                  ~ graph.nodes[staging ~ 'invoice_lines'].relation_name ~ ' as l where ' ~ moved ~ ')') }}
    {%- endif -%}
    {%- set source_name, table_name = scope.source.split('.') -%}
    {%- set source_node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set key = adapter.quote(scope.key) -%}
    {{ return(key ~ ' in (select ' ~ key ~ ' from ' ~ source_node.relation_name ~ ' where _loaded_at > ' ~ since ~ ')') }}
{%- endmacro %}

{#- meta.test_scope of the model a generic test reads ({} when it has none). -#}
{% macro tested_model_scope() -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {{ return(((tested.config.meta or {}).get('test_scope') or {}) if tested else {}) }}
{%- endmacro %}

{#- dbt's get_where_subquery (every generic test reads its model through it) with the test's `where`
    config and the night's scope. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- if config.get('where') %}{% do clauses.append('(' ~ config.get('where') ~ ')') %}{% endif -%}
    {%- set scope = test_scope_predicate() -%}
    {%- if scope %}{% do clauses.append(scope) %}{% endif -%}
    {%- if clauses -%}
        {#- A narrowed partition scope is a fence: `offset 0` keeps DuckDB from pushing the test's own
            condition (a computed share out of range, say) below the partition filter into the scan of
            every row (an empty scope's Lorenz range test: 0.93 s -> 0.005 s). -#}
        {%- set fence = ' offset 0' if scope and tested_model_scope().ranked_partitions else '' -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ clauses | join(' and ') }}{{ fence }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}
