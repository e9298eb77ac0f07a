-- Blocking: no invoice line or credit note may wait for an FX rate. Each row is a currency and date
-- whose documents have no rate on or before their date; the gate holds tiers and publish and
-- kam_warehouse.pipeline names currency, date, count and amount. Deliver the missing rate (a late
-- fx_rates row is enough: the affected lines are reprocessed) to release the night.
select * from {{ ref('revenue_awaiting_fx') }}
