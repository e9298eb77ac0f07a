"""Invoices and invoice lines of one month, vectorised over all accounts billed that month."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sample_extracts import vocab
from sample_extracts.accounts import AccountBook
from sample_extracts.calendar import DAY, SECOND, ExtractCalendar, office_time
from sample_extracts.counters import IdCounter
from sample_extracts.fx import FxTable

MONTHLY, ONE_OFF, PARTIAL, ANNUAL = 0, 1, 2, 3
PRODUCTS = (*vocab.MONTHLY_PRODUCTS, *vocab.ONE_OFF_PRODUCTS, vocab.ANNUAL_PRODUCT)
PRODUCT_CODES = np.array([p[0] for p in PRODUCTS])
PRODUCT_TEXT = np.array([p[1] for p in PRODUCTS])


@dataclass
class MonthInvoices:
    """One month's invoices (arrays per invoice) and lines (arrays per line, grouped by invoice)."""

    number: np.ndarray
    account: np.ndarray  # account position
    date: np.ndarray  # datetime64[D]
    due: np.ndarray
    currency: np.ndarray
    void: np.ndarray
    updated_at: np.ndarray  # datetime64[s]
    late: np.ndarray  # arrives only in a delta folder although dated in the history
    line_number: np.ndarray
    line_invoice: np.ndarray  # invoice position of each line
    product: np.ndarray  # index into PRODUCTS
    kind: np.ndarray
    quantity: np.ndarray  # x100
    unit_price: np.ndarray  # x10^4
    amount: np.ndarray  # cents, invoice currency
    service_start: np.ndarray
    service_end: np.ndarray
    described: np.ndarray  # False: description left empty

    def totals(self) -> np.ndarray:
        """Invoice totals in cents of the invoice currency."""
        return np.bincount(self.line_invoice, self.amount, len(self.number)).round().astype(np.int64)

    def invoice_table(self) -> pa.Table:
        return pa.table({
            "invoice_id": self.number, "account_id": self.account + 1,
            "invoice_date": self.date, "due_date": self.due, "currency": self.currency,
            "status": np.where(self.void, "void", "issued"), "updated_at": self.updated_at,
            "_changed_at": self.updated_at,
        })

    def line_table(self) -> pa.Table:
        updated = self.updated_at[self.line_invoice]
        return pa.table({
            "invoice_line_id": self.line_number, "invoice_id": self.number[self.line_invoice],
            "product_code": PRODUCT_CODES[self.product],
            "description": pa.array(PRODUCT_TEXT[self.product], mask=~self.described),
            "quantity": self.quantity, "unit_price": self.unit_price, "amount": self.amount,
            "service_start": self.service_start, "service_end": self.service_end,
            "updated_at": updated, "_changed_at": updated,
        })


def month_invoices(book: AccountBook, rank: np.ndarray, cal: ExtractCalendar, fx: FxTable, m: int,
                   rng: np.random.Generator, ids: IdCounter) -> MonthInvoices:
    """Bill every account with revenue in month m: regular invoices spread the month's target over
    1..6 invoices of 1..60 lines (bigger accounts: more), plus the annual prepaid invoice in an
    account's anniversary month."""
    revenue = book.revenue[:, m]
    acc = np.flatnonzero(revenue > 0)
    prepaid = book.prepaid_share[acc]
    anniversary = (prepaid > 0) & ((m - book.start[acc]) % 12 == 0)

    n_regular = 1 + np.minimum(rng.poisson(0.2 + 2.0 * rank[acc] ** 3), 5)
    owner = np.repeat(np.arange(len(acc)), n_regular)
    share = _normalised(rng.exponential(size=len(owner)), owner, len(acc))
    regular_cny = (revenue[acc] * (1 - prepaid))[owner] * share
    annual_owner = np.flatnonzero(anniversary)
    inv_owner = np.concatenate([owner, annual_owner])
    inv_cny = np.concatenate([regular_cny, revenue[acc][annual_owner] * prepaid[annual_owner] * 12])
    is_annual = np.arange(len(inv_owner)) >= len(owner)
    n_inv = len(inv_owner)
    inv_acc = acc[inv_owner]

    first = cal.month_first(m)
    length = int(cal.month_length(m))
    date = first + np.where(is_annual, rng.integers(0, 5, n_inv), rng.integers(0, length, n_inv)) * DAY
    currency = book.currency[inv_acc]
    void = ~is_annual & (rng.random(n_inv) < 0.015)

    n_lines = np.where(is_annual, 1, 1 + np.minimum(rng.poisson(0.8 + 10 * rank[inv_acc] ** 4), 59))
    line_inv = np.repeat(np.arange(n_inv), n_lines)
    line_cny = inv_cny[line_inv] * _normalised(rng.exponential(size=len(line_inv)), line_inv, n_inv)
    kind = _line_kinds(rng, book, m, inv_acc[line_inv], is_annual[line_inv])
    start, end = _service_periods(rng, cal, m, kind, date[line_inv])
    rate = fx.rate(currency, date)[line_inv]
    amount = np.maximum(1, np.round(line_cny / rate * 100)).astype(np.int64)
    quantity = _quantities(rng, kind)
    return MonthInvoices(
        number=ids.take("invoice_id", n_inv), account=inv_acc, date=date,
        due=date + book.terms[inv_acc] * DAY, currency=currency, void=void,
        updated_at=office_time(rng, date), late=np.zeros(n_inv, bool),
        line_number=ids.take("invoice_line_id", len(line_inv)), line_invoice=line_inv,
        product=_products(rng, kind), kind=kind, quantity=quantity,
        unit_price=np.round(amount * 10_000 / quantity).astype(np.int64), amount=amount,
        service_start=start, service_end=end, described=rng.random(len(line_inv)) > 0.04,
    )


def _normalised(weights: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """weights / (sum of weights in the same group)."""
    return weights / np.bincount(group, weights, n_groups)[group]


def _line_kinds(rng: np.random.Generator, book: AccountBook, m: int, line_acc: np.ndarray,
                annual: np.ndarray) -> np.ndarray:
    kind = rng.choice(np.array([MONTHLY, ONE_OFF, PARTIAL]), len(line_acc), p=[0.6, 0.28, 0.12])
    # a new account's first month is billed from its start day: partial periods
    first_month = (book.start[line_acc] == m) & (m > 0)
    kind = np.where(first_month & (kind == MONTHLY), PARTIAL, kind)
    return np.where(annual, ANNUAL, kind)


def _service_periods(rng: np.random.Generator, cal: ExtractCalendar, m: int, kind: np.ndarray,
                     invoice_date: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first = cal.month_first(m)
    last = cal.month_first(m + 1) - DAY
    n = len(kind)
    partial_start = first + rng.integers(3, 21, n) * DAY
    partial_end = np.where(rng.random(n) < 0.5, last, partial_start + 29 * DAY)
    year_end = (first.astype("datetime64[M]") + 12).astype("datetime64[D]") - DAY
    start = np.select([kind == ONE_OFF, kind == PARTIAL], [invoice_date, partial_start], first)
    end = np.select([kind == ONE_OFF, kind == PARTIAL, kind == ANNUAL], [invoice_date, partial_end, year_end],
                    last)
    return start.astype("datetime64[D]"), end.astype("datetime64[D]")


def _quantities(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """Seats for subscriptions, units or half hours for one-off services; x100."""
    n = len(kind)
    seats = rng.integers(1, 41, n) * 100
    one_off = np.where(rng.random(n) < 0.5, rng.integers(1, 11, n) * 100, rng.integers(1, 40, n) * 50)
    return np.select([kind == ANNUAL, kind == ONE_OFF], [100, one_off], seats).astype(np.int64)


def _products(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    n = len(kind)
    n_monthly, n_one_off = len(vocab.MONTHLY_PRODUCTS), len(vocab.ONE_OFF_PRODUCTS)
    return np.select(
        [kind == ANNUAL, kind == ONE_OFF],
        [len(PRODUCTS) - 1, n_monthly + rng.integers(0, n_one_off, n)],
        rng.integers(0, n_monthly, n),
    )


def updated_later(ts: np.ndarray, after: np.ndarray) -> np.ndarray:
    """A change timestamp no earlier than one hour after the record it depends on."""
    return np.maximum(ts, after + 3600 * SECOND)
