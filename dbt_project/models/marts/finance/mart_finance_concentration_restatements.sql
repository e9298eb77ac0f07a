{{ config(materialized='view') }}
-- Closed vs current concentration figures of every closed month, one row per figure that changed
-- since the close, with the likely cause: source rows loaded after the close (extract day later than
-- the close's as-of date) that fall in the figure's window. Figures that did not change are omitted.
with closed as (
    select * from {{ ref('mart_finance_concentration_closed') }}
),

current_figures as (
    select * from {{ ref('mart_finance_concentration_figures') }}
),

compared as (
    select
        c.closed_month,
        c.figure_set,
        c.level,
        c.time_window,
        c.segment,
        c.metric,
        c.value as closed_value,
        f.value as current_value,
        f.value - c.value as delta,
        c.close_version,
        c.as_of_date as closed_as_of_date,
        c.closed_at,
        case when c.time_window = 't12m' then {{ add_months('c.closed_month', -11) }} else c.closed_month end
            as window_start,
        {{ add_days(add_months('c.closed_month', 1), -1) }} as window_end
    from closed as c
    left join current_figures as f
        on f.revenue_month = c.closed_month
        and f.figure_set = c.figure_set
        and f.level = c.level
        and f.time_window = c.time_window
        and f.segment = c.segment
        and f.metric = c.metric
),

restated as (
    select *
    from compared
    where current_value is null
        or closed_value is null
        or abs(delta) > 1e-9 * greatest(1.0, abs(closed_value))
),

windows as (
    select distinct closed_month, window_start, window_end, closed_as_of_date from restated
),

late_lines as (
    select w.closed_month, w.window_start, count(*) as n
    from windows as w
    inner join {{ source('billing', 'invoice_lines') }} as l
        on l._extract_day > w.closed_as_of_date
        and l.service_start <= w.window_end
        and l.service_end >= w.window_start
    group by w.closed_month, w.window_start
),

late_invoices as (
    select w.closed_month, w.window_start, count(distinct i.invoice_id) as n
    from windows as w
    inner join {{ source('billing', 'invoices') }} as i
        on i._extract_day > w.closed_as_of_date
    inner join {{ source('billing', 'invoices') }} as earlier  -- the invoice was known at close
        on earlier.invoice_id = i.invoice_id
        and earlier._extract_day <= w.closed_as_of_date
    inner join {{ source('billing', 'invoice_lines') }} as l
        on l.invoice_id = i.invoice_id
        and l.service_start <= w.window_end
        and l.service_end >= w.window_start
    group by w.closed_month, w.window_start
),

late_credits as (
    select w.closed_month, w.window_start, count(*) as n
    from windows as w
    inner join {{ source('billing', 'credit_notes') }} as cn
        on cn._extract_day > w.closed_as_of_date
        and cn.credit_date between w.window_start and w.window_end
    group by w.closed_month, w.window_start
),

late_rates as (
    select w.closed_month, w.window_start, count(*) as n
    from windows as w
    inner join {{ source('billing', 'fx_rates') }} as r
        on r._extract_day > w.closed_as_of_date
        and r.rate_date <= w.window_end
    group by w.closed_month, w.window_start
),

late_accounts as (
    select w.closed_month, w.window_start, count(distinct a.account_id) as n
    from windows as w
    inner join {{ source('crm', 'accounts') }} as a
        on a._extract_day > w.closed_as_of_date
    group by w.closed_month, w.window_start
),

causes as (
    select
        w.closed_month,
        w.window_start,
        coalesce(ll.n, 0) as late_invoice_lines,
        coalesce(li.n, 0) as late_invoice_changes,
        coalesce(lc.n, 0) as late_credit_notes,
        coalesce(lr.n, 0) as late_fx_rates,
        coalesce(la.n, 0) as late_account_changes
    from windows as w
    left join late_lines as ll on ll.closed_month = w.closed_month and ll.window_start = w.window_start
    left join late_invoices as li on li.closed_month = w.closed_month and li.window_start = w.window_start
    left join late_credits as lc on lc.closed_month = w.closed_month and lc.window_start = w.window_start
    left join late_rates as lr on lr.closed_month = w.closed_month and lr.window_start = w.window_start
    left join late_accounts as la on la.closed_month = w.closed_month and la.window_start = w.window_start
),

final as (
    select
        r.closed_month,
        r.figure_set,
        r.level,
        r.time_window,
        r.segment,
        r.metric,
        r.closed_value,
        r.current_value,
        r.delta,
        case when r.closed_value <> 0 then r.delta / abs(r.closed_value) end as delta_pct,
        coalesce(nullif(concat_ws('; ',
            case when c.late_invoice_lines > 0
                then 'late invoice loaded after close (' || cast(c.late_invoice_lines as {{ dbt.type_string() }}) || ' lines)' end,
            case when c.late_invoice_changes > 0
                then 'invoice changed/voided after close (' || cast(c.late_invoice_changes as {{ dbt.type_string() }}) || ')' end,
            case when c.late_credit_notes > 0
                then 'late credit note loaded after close (' || cast(c.late_credit_notes as {{ dbt.type_string() }}) || ')' end,
            case when c.late_fx_rates > 0
                then 'FX rate loaded after close (' || cast(c.late_fx_rates as {{ dbt.type_string() }}) || ')' end,
            case when c.late_account_changes > 0
                then 'account master data changed after close (' || cast(c.late_account_changes as {{ dbt.type_string() }}) || ' accounts)' end
        ), ''), 'no source rows loaded after close: model or definition change') as cause,
        c.late_invoice_lines,
        c.late_invoice_changes,
        c.late_credit_notes,
        c.late_fx_rates,
        c.late_account_changes,
        r.close_version,
        r.closed_as_of_date,
        r.closed_at
    from restated as r
    left join causes as c on c.closed_month = r.closed_month and c.window_start = r.window_start
)

select * from final
