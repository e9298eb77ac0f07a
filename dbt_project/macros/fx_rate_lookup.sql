{#- FX rate for each row of `events`: the latest `rates` row of its currency on or before `date_column`
    (rate_to_reporting = reporting-currency units per unit). The reporting currency itself gets 1 and
    needs no rate row. A missing rate yields fx_rate null, never a guess: the document is awaiting_fx
    (ops.revenue_awaiting_fx, blocking test assert_no_revenue_awaiting_fx).
    Returns a select of (<key_column>, fx_rate, fx_rate_date).
    DuckDB: one ASOF join (a merge of the sorted rates, linear in events + rates); elsewhere the portable
    form below, a range join ranked per event (rows grow with events × earlier rates of the currency). -#}
{% macro fx_rate_lookup(events, key_column, date_column, rates, currency_column='currency') -%}
    {{ return(adapter.dispatch('fx_rate_lookup')(events, key_column, date_column, rates, currency_column)) }}
{%- endmacro %}

{% macro duckdb__fx_rate_lookup(events, key_column, date_column, rates, currency_column) -%}
select
    e.{{ key_column }},
    {{ fx_rate_columns(date_column, currency_column) }}
from {{ events }} as e
asof left join {{ rates }} as r
    on r.currency = e.{{ currency_column }}
    and e.{{ date_column }} >= r.rate_date
{%- endmacro %}

{% macro default__fx_rate_lookup(events, key_column, date_column, rates, currency_column) -%}
select
    {{ key_column }},
    fx_rate,
    fx_rate_date
from (
    select
        e.{{ key_column }},
        {{ fx_rate_columns(date_column, currency_column) }},
        row_number() over (partition by e.{{ key_column }} order by r.rate_date desc) as rate_rank
    from {{ events }} as e
    left join {{ rates }} as r
        on r.currency = e.{{ currency_column }}
        and r.rate_date <= e.{{ date_column }}
        and e.{{ currency_column }} <> '{{ reporting_currency() }}'
) as ranked_rates
where rate_rank = 1
{%- endmacro %}


{#- fx_rate and fx_rate_date of event `e` from the matched rate row `r` (1 and the event's own date in
    the reporting currency). -#}
{% macro fx_rate_columns(date_column, currency_column) -%}
case
            when e.{{ currency_column }} = '{{ reporting_currency() }}' then cast(1 as {{ type_rate() }})
            else cast(r.rate_to_reporting as {{ type_rate() }})
        end as fx_rate,
        case
            when e.{{ currency_column }} = '{{ reporting_currency() }}' then e.{{ date_column }}
            else r.rate_date
        end as fx_rate_date
{%- endmacro %}
