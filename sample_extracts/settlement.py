"""Payments and credit notes for a month's invoices."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sample_extracts import vocab
from sample_extracts.accounts import AccountBook
from sample_extracts.billing import MonthInvoices, updated_later
from sample_extracts.calendar import DAY, office_time
from sample_extracts.counters import IdCounter


def payments(inv: MonthInvoices, book: AccountBook, m: int, rng: np.random.Generator,
             ids: IdCounter) -> pa.Table:
    """Most issued invoices get paid in full, some in two parts, a few never. Lateness is the
    account's habit plus a drift of up to six weeks in the half year before the account churns."""
    n = len(inv.number)
    totals = inv.totals()
    paid = ~inv.void & (rng.random(n) >= 0.03)
    months_to_churn = book.churn[inv.account] - m
    drift = np.where((months_to_churn > 0) & (months_to_churn <= 6), (7 - months_to_churn) * 7, 0)
    lateness = book.late_base[inv.account] + drift + rng.integers(-3, 6, n)
    pay_date = np.maximum(inv.due + lateness * DAY, inv.date + DAY)
    split = paid & (rng.random(n) < 0.06)
    first_part = np.round(totals * 0.6).astype(np.int64)

    whole = np.flatnonzero(paid & ~split)
    parts = np.flatnonzero(split)
    inv_pos = np.concatenate([whole, parts, parts])
    amount = np.concatenate([totals[whole], first_part[parts], totals[parts] - first_part[parts]])
    date = np.concatenate([pay_date[whole], np.maximum(pay_date[parts] - 12 * DAY, inv.date[parts] + DAY),
                           pay_date[parts]])
    order = np.argsort(inv_pos, kind="stable")
    inv_pos, amount, date = inv_pos[order], amount[order], date[order]
    updated = updated_later(office_time(rng, date), inv.updated_at[inv_pos])
    return pa.table({
        "payment_id": ids.take("payment_id", len(inv_pos)), "invoice_id": inv.number[inv_pos],
        "account_id": inv.account[inv_pos] + 1, "payment_date": date, "currency": inv.currency[inv_pos],
        "amount": amount, "updated_at": updated, "_changed_at": updated,
    })


def credit_notes(inv: MonthInvoices, rng: np.random.Generator, ids: IdCounter) -> pa.Table:
    """About 4% of issued invoices are partly credited 3-60 days later; a fifth of the credit notes
    (rebates, goodwill) carry no invoice_id."""
    n = len(inv.number)
    pos = np.flatnonzero(~inv.void & (rng.random(n) < 0.04))
    k = len(pos)
    amount = np.maximum(1, np.round(inv.totals()[pos] * rng.uniform(0.05, 0.4, k))).astype(np.int64)
    date = inv.date[pos] + rng.integers(3, 61, k) * DAY
    updated = updated_later(office_time(rng, date), inv.updated_at[pos])
    reasons = np.array(vocab.CREDIT_REASONS)[rng.integers(0, len(vocab.CREDIT_REASONS), k)]
    return pa.table({
        "credit_note_id": ids.take("credit_note_id", k),
        "invoice_id": pa.array(inv.number[pos], mask=rng.random(k) < 0.2),
        "account_id": inv.account[pos] + 1, "credit_date": date, "currency": inv.currency[pos],
        "amount": amount, "reason": reasons, "updated_at": updated, "_changed_at": updated,
    })
