"""Billing records that reach the extracts late or twice: invoices dated in the history that arrive
only in a delta folder, and records re-sent in a delta folder (changed with a later updated_at, or
unchanged)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sample_extracts.billing import MonthInvoices
from sample_extracts.calendar import DAY, ExtractCalendar
from sample_extracts.tables import with_columns


def mark_late_arrivals(inv: MonthInvoices, cal: ExtractCalendar, m: int, rng: np.random.Generator) -> None:
    """In the last three history months, ~0.4% of invoices (at least one, two months back) are
    entered in billing only during the delta days: old invoice_date, updated_at in a delta day."""
    if not cal.months - 3 <= m < cal.months or len(inv.number) == 0:
        return
    late = rng.random(len(inv.number)) < 0.004
    if m == cal.months - 2:
        late[rng.integers(0, len(late))] = True
    inv.late = late
    stamps = cal.delta_timestamps(rng, len(late))
    if m == cal.months - 2:  # the one sure late arrival comes on the first delta day
        stamps[np.flatnonzero(late)[:1]] = cal.day_stamps(rng, np.ones(1, np.int64))
    inv.updated_at = np.where(late, stamps, inv.updated_at)


def resend_invoices(inv: MonthInvoices, cal: ExtractCalendar, rng: np.random.Generator
                    ) -> tuple[pa.Table, np.ndarray]:
    """Re-sent invoices of the last history month: ~1% changed (due date pushed out, or voided) with
    a later updated_at, plus two unchanged copies. Returns the rows and the numbers of voided ones."""
    invoices = inv.invoice_table()
    candidates = np.flatnonzero(~inv.void & ~inv.late & (cal.route(inv.updated_at) == 0))
    k = min(len(candidates), max(2, round(0.01 * len(inv.number))))
    if k == 0:
        return invoices.slice(0, 0), np.array([], np.int64)
    chosen = np.sort(rng.choice(candidates, k, replace=False))
    voided = chosen[: max(1, k // 3)]
    changed = invoices.take(chosen)
    due = np.where(np.isin(chosen, voided), inv.due[chosen], inv.due[chosen] + 30 * DAY)
    stamps = cal.delta_timestamps(rng, k)
    changed = with_columns(changed, due_date=due, status=np.where(np.isin(chosen, voided), "void", "issued"),
                   updated_at=stamps, _changed_at=stamps)
    same = invoices.take(np.sort(rng.choice(candidates, min(2, len(candidates)), replace=False)))
    same = with_columns(same, _changed_at=cal.delta_timestamps(rng, same.num_rows))
    return pa.concat_tables([changed, same]), inv.number[voided]


def resend_lines(inv: MonthInvoices, cal: ExtractCalendar, rng: np.random.Generator,
                 skip_invoices: np.ndarray) -> pa.Table:
    """~0.5% of the last history month's lines corrected: one more unit, amount recomputed."""
    lines = inv.line_table()
    ok = ~inv.late[inv.line_invoice] & ~np.isin(inv.number[inv.line_invoice], skip_invoices)
    candidates = np.flatnonzero(ok & (cal.route(inv.updated_at[inv.line_invoice]) == 0))
    k = min(len(candidates), max(1, round(0.005 * len(candidates))))
    if k == 0:
        return lines.slice(0, 0)
    chosen = np.sort(rng.choice(candidates, k, replace=False))
    quantity = inv.quantity[chosen] + 100
    amount = np.round(quantity * inv.unit_price[chosen] / 10_000).astype(np.int64)
    stamps = cal.delta_timestamps(rng, k)
    return with_columns(lines.take(chosen), quantity=quantity, amount=amount, updated_at=stamps,
                _changed_at=stamps)


def drop_for_invoices(table: pa.Table, numbers: np.ndarray) -> pa.Table:
    """Rows of `table` whose invoice_id is not among `numbers` (payments of voided invoices)."""
    if len(numbers) == 0:
        return table
    return table.filter(pc.invert(pc.fill_null(pc.is_in(table["invoice_id"], pa.array(numbers)), False)))
