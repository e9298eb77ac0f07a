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

{#- Keyed one-way hash for personal data (contacts): HMAC-SHA256 (RFC 2104) of lower(trim(value)) under
    the key in env KAM_PII_KEY (hex, 16-64 bytes; kam checks it before a run starts), as 64 hex
    characters. An unkeyed sha256 of an e-mail or phone number is reversed by enumerating candidates;
    an HMAC is not without the key. Written in plain SQL on every adapter (DuckDB has no hmac()):
    H((K xor opad) || H((K xor ipad) || m)), the two padded keys computed here at compile time.
    The key reaches compiled SQL only for commands that execute models (build, run, test, compile):
    their artefacts live in the warehouse's private dbt/ folder; `dbt docs generate` renders a
    placeholder, so the static docs never carry it. -#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii')(column, pii_hmac_pads())) }}
{%- endmacro %}

{% macro pii_hmac_pads() -%}
    {%- set executes = execute and flags.WHICH in ('build', 'run', 'test', 'retry', 'compile', 'show') -%}
    {%- set key = (env_var('KAM_PII_KEY', '') if executes else '') | trim | lower -%}
    {%- if not executes -%}
        {{ return({'ipad': 'KAM_PII_KEY', 'opad': 'KAM_PII_KEY'}) }}
    {%- endif -%}
    {%- set digits = '0123456789abcdef' -%}
    {%- if key | length < 32 or key | length > 128 or key | length is odd
           or key | select('in', digits) | list | length != key | length -%}
        {{ exceptions.raise_compiler_error(
            "KAM_PII_KEY must be set to 32-128 hex characters (16-64 bytes) to hash contact data; "
            ~ "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'") }}
    {%- endif -%}
    {%- set padded = key ~ ('00' * (64 - (key | length) // 2)) -%}
    {#- nibble n xor 3, xor 6 (ipad 0x36) and xor 5, xor c (opad 0x5c) -#}
    {%- set x3, x6, x5, xc = '32107654ba98fedc', '67452301efcdab89', '54761032dcfe98ba', 'cdef89ab45670123' -%}
    {%- set ipad, opad = [], [] -%}
    {%- for i in range(0, 128, 2) -%}
        {%- set hi, lo = digits.index(padded[i]), digits.index(padded[i + 1]) -%}
        {%- do ipad.append(x3[hi] ~ x6[lo]) -%}
        {%- do opad.append(x5[hi] ~ xc[lo]) -%}
    {%- endfor -%}
    {{ return({'ipad': ipad | join(''), 'opad': opad | join('')}) }}
{%- endmacro %}

{% macro default__hash_pii(column, pads) -%}
    case when {{ column }} is null then null
         else sha256(unhex('{{ pads.opad }}') || unhex(sha256(unhex('{{ pads.ipad }}') || encode(lower(trim({{ column }})))))) end
{%- endmacro %}

{% macro postgres__hash_pii(column, pads) -%}
    case when {{ column }} is null then null
         else encode(sha256(decode('{{ pads.opad }}', 'hex')
                            || sha256(decode('{{ pads.ipad }}', 'hex') || convert_to(lower(trim({{ column }})), 'UTF8'))), 'hex') end
{%- endmacro %}

{% macro spark__hash_pii(column, pads) -%}
    case when {{ column }} is null then null
         else sha2(concat(unhex('{{ pads.opad }}'),
                          unhex(sha2(concat(unhex('{{ pads.ipad }}'), encode(lower(trim({{ column }})), 'UTF-8')), 256))), 256) end
{%- endmacro %}

{#- Days from a to b (b - a) as an integer. -#}
{% macro days_between(a, b) -%}
    cast({{ dbt.datediff(a, b, 'day') }} as integer)
{%- endmacro %}
