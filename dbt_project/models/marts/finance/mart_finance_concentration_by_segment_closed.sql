{{ config(materialized='view') }}
-- The closed per-segment figures in the shape and names of mart_revenue_concentration_by_segment: one
-- row per closed month × level × window × segment × close version, one column per metric, plus the
-- close's metadata. Body: macro finance_closed_wide (macros/finance_figures.sql).
{{ finance_closed_wide('segment', ['segment']) }}
