"""Revenue held for a missing FX rate, in words: which currency, which dates, how many documents and how
much (in the document currency). Read from the dbt model ops.revenue_awaiting_fx of the build warehouse;
the blocking dbt test assert_no_revenue_awaiting_fx holds the night while it has rows, and the gate's
message carries these lines so the person on call knows which rate to ask for.
"""

from __future__ import annotations

from kam_warehouse.core.warehouse import WarehouseTarget, as_warehouse, connect

RELATION = ("ops", "revenue_awaiting_fx")

_QUERY = """
SELECT document_kind, currency, min(document_date), max(document_date), sum(documents), sum(amount)
FROM ops.revenue_awaiting_fx
GROUP BY document_kind, currency
ORDER BY currency, document_kind
"""


def describe_awaiting_fx(target: WarehouseTarget) -> list[str]:
    """One line per currency and document kind held, e.g. "USD: 12 invoice line(s) dated 2025-03-01 to
    2025-03-31, 45,000.00 USD, have no USD rate on or before their date". Empty when nothing is held
    (or the model was not built)."""
    if not as_warehouse(target).exists():
        return []
    with connect(target, read_only=True) as con:
        if not con.has_relation(*RELATION):
            return []
        rows = con.execute(_QUERY).fetchall()
    lines = []
    for kind, currency, first, last, documents, amount in rows:
        dates = f"dated {first}" if first == last else f"dated {first} to {last}"
        lines.append(f"{currency}: {documents} {kind.replace('_', ' ')}(s) {dates}, {amount:,.2f} {currency}, "
                     f"have no {currency} rate on or before their date")
    return lines
