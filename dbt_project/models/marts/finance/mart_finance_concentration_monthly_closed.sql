{{ config(materialized='view') }}
-- The closed figures in the shape and names of mart_revenue_concentration_monthly: one row per closed
-- month × level × window × close version, one column per metric, plus the close's metadata
-- (is_current, as_of_date, closed_at, closed_by, close_reason). BI reads `where is_current` for the
-- figures finance signed. Body: macro finance_closed_wide (macros/finance_figures.sql).
{{ finance_closed_wide('overall') }}
