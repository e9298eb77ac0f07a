"""CRM records: accounts (as of the initial extract), contacts, opportunities, and activities per month."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sample_extracts import vocab
from sample_extracts.accounts import AccountBook
from sample_extracts.calendar import DAY, SECOND, ExtractCalendar, cap_before, office_time
from sample_extracts.counters import IdCounter
from sample_extracts.names import company_names, emails, people, phones


def _first_seen(cal: ExtractCalendar, created: np.ndarray, later: np.ndarray) -> np.ndarray:
    """A change timestamp after `created`: records of accounts created before the initial day change
    before it (they are in the initial folder); later ones a few hours after creation."""
    initial = cal.initial_day.astype("datetime64[s]")
    span = np.maximum((initial - created).astype(np.int64) - 60, 1)
    before = created + (later.astype(np.int64) % span) * SECOND
    return np.where(created < initial, cap_before(before, cal.initial_day), created + 3600 * SECOND)


def accounts(book: AccountBook, cal: ExtractCalendar, rng: np.random.Generator) -> pa.Table:
    n = book.n
    rank = book.size_rank()
    managers, _ = people(rng, max(3, n // 25))
    merged = book.merged_into >= 0
    updated = _first_seen(cal, book.created_at, rng.integers(0, 400 * 86400, n) * SECOND)
    merged_at = office_time(rng, cal.month_first(np.minimum(book.merge_month, cal.months)))
    updated = np.where(merged, cap_before(np.maximum(updated, merged_at), cal.initial_day), updated)
    budget = np.round(book.size * rng.uniform(1.3, 4.0, n), -3) * 100
    segment = np.select([rank >= 0.9, rank >= 0.6], list(vocab.SEGMENTS[:2]), vocab.SEGMENTS[2])
    return pa.table({
        "account_id": book.number,
        "account_name": company_names(rng, book.region, book.industry, book.level, book.parent, book.currency),
        "parent_account_id": pa.array(book.parent + 1, mask=book.parent < 0),
        "merged_into_account_id": pa.array(book.merged_into + 1, mask=~merged),
        "industry": np.array(vocab.INDUSTRIES)[book.industry],
        "region": np.array(vocab.REGIONS)[book.region],
        "segment": segment,
        "customer_type": book.customer_type,
        "account_manager": pa.array(managers[rng.integers(0, len(managers), n)], mask=rng.random(n) < 0.03),
        "estimated_annual_budget": pa.array(budget.astype(np.int64), mask=rng.random(n) < 0.1),
        "is_reference_customer": rng.random(n) < 0.08,
        "created_at": book.created_at,
        "updated_at": updated,
        "_changed_at": updated,
    })


def contacts(book: AccountBook, cal: ExtractCalendar, rng: np.random.Generator, ids: IdCounter) -> pa.Table:
    """1-6 contacts per account (bigger: more), the first one primary."""
    per_account = 1 + np.minimum(rng.poisson(0.5 + 3 * book.size_rank()), 5)
    owner = np.repeat(np.arange(book.n), per_account)
    k = len(owner)
    serial = np.arange(k) - np.repeat(np.cumsum(per_account) - per_account, per_account)
    han, pinyin = people(rng, k)
    updated = _first_seen(cal, book.created_at[owner], rng.integers(1, 600 * 86400, k) * SECOND)
    return pa.table({
        "contact_id": ids.take("contact_id", k),
        "account_id": owner + 1,
        "full_name": pa.array(han, mask=rng.random(k) < 0.01),
        "email": pa.array(emails(pinyin, owner + 1, serial), mask=rng.random(k) < 0.05),
        "phone": pa.array(phones(rng, k), mask=rng.random(k) < 0.1),
        "role": np.array(vocab.CONTACT_ROLES)[rng.integers(0, len(vocab.CONTACT_ROLES), k)],
        "is_primary": serial == 0,
        "updated_at": updated,
        "_changed_at": updated,
    })


def opportunities(book: AccountBook, cal: ExtractCalendar, rng: np.random.Generator,
                  ids: IdCounter) -> pa.Table:
    """Deals over the history: closed ones won or lost, recent ones in an open stage."""
    live = book.created_at < cal.initial_day.astype("datetime64[s]")
    per_account = np.where(live, rng.poisson(1 + 4 * book.size_rank()), 0)
    owner = np.repeat(np.arange(book.n), per_account)
    k = len(owner)
    earliest = np.maximum(book.created_at[owner].astype("datetime64[D]"), cal.start - 180 * DAY)
    span = np.maximum((cal.initial_day - earliest).astype(np.int64) - 1, 1)
    created = earliest + (rng.random(k) * span).astype(np.int64) * DAY
    close = created + rng.integers(30, 181, k) * DAY
    closed = close < cal.initial_day - 30 * DAY
    open_stage = np.array(vocab.OPEN_STAGES)[rng.integers(0, len(vocab.OPEN_STAGES), k)]
    stage = np.where(closed, np.where(rng.random(k) < 0.55, "won", "lost"), open_stage)
    probability = np.vectorize(vocab.STAGE_PROBABILITY.get, otypes=[float])(stage)
    probability = np.where(closed, probability, np.clip(probability + rng.normal(0, 0.05, k), 0.01, 0.95))
    rate = np.vectorize(lambda c: vocab.FX_BASE.get(c, 1.0), otypes=[float])(book.currency[owner])
    amount = np.round(book.size[owner] * rng.uniform(0.05, 0.5, k) / rate, -2) * 100
    changed = np.where(closed, close, created + (rng.random(k) * (cal.initial_day - created).astype(np.int64))
                       .astype(np.int64) * DAY)
    updated = cap_before(office_time(rng, changed), cal.initial_day)
    return pa.table({
        "opportunity_id": ids.take("opportunity_id", k),
        "account_id": owner + 1,
        "stage": stage,
        "amount": amount.astype(np.int64),
        "currency": book.currency[owner],
        "probability": np.round(probability * 100).astype(np.int64),
        "expected_close_date": pa.array(close, mask=(stage == "prospecting") & (rng.random(k) < 0.2)),
        "updated_at": updated,
        "_changed_at": updated,
    })


def month_activities(book: AccountBook, rank: np.ndarray, cal: ExtractCalendar, m: int,
                     rng: np.random.Generator, ids: IdCounter) -> pa.Table:
    """Calls, e-mails, meetings, visits, QBRs and executive visits of month m. Bigger accounts get
    more; activity fades in the months before a churn and stops after it (until a comeback)."""
    engaged = (m >= book.start) & ((m < book.churn) | (m >= book.comeback))
    months_to_churn = book.churn - m
    fading = (months_to_churn > 0) & (months_to_churn <= 4)
    lam = np.where(engaged, (0.3 + 4 * rank**2) * np.where(fading, 0.3, 1.0), 0.0)
    count = rng.poisson(lam)
    owner = np.repeat(np.arange(book.n), count)
    k = len(owner)
    date = cal.month_first(m) + rng.integers(0, int(cal.month_length(m)), k) * DAY
    updated = office_time(rng, date + rng.integers(0, 3, k) * DAY)
    kind = rng.choice(np.array(vocab.ACTIVITY_TYPES), k, p=vocab.ACTIVITY_WEIGHTS)
    return pa.table({
        "activity_id": ids.take("activity_id", k),
        "account_id": owner + 1,
        "activity_type": kind,
        "activity_date": date,
        "updated_at": updated,
        "_changed_at": updated,
    })
