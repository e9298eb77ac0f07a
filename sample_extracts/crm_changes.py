"""CRM changes sent in the delta folders: re-parenting, customer_type changes, new account managers,
a merge, a primary-contact change, opportunities moving a stage. Every changed record is a full row
re-sent with a later updated_at; each account changes at most once (so the changes stay consistent)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sample_extracts import vocab
from sample_extracts.accounts import AccountBook
from sample_extracts.calendar import ExtractCalendar
from sample_extracts.names import phones
from sample_extracts.tables import with_columns


def account_changes(book: AccountBook, accounts: pa.Table, cal: ExtractCalendar,
                    rng: np.random.Generator) -> pa.Table:
    n = book.n
    has_children = np.zeros(n, bool)
    has_children[book.parent[book.parent >= 0]] = True
    survivor = np.zeros(n, bool)
    survivor[book.merged_into[book.merged_into >= 0]] = True
    heads = np.flatnonzero(book.level == 1)
    movable = (book.level == 2) | ((book.level == 0) & ~has_children)
    pool = np.flatnonzero(movable & (book.merged_into < 0) & ~survivor)
    pool = rng.permutation(pool)
    # one merge on the first delta day; then `per_day` re-parentings, type changes and new managers on
    # each delta day until the pool is used up (planned for the whole horizon: extendable books)
    merge = pool[book.level[pool] == 0][:1]
    pool = pool[~np.isin(pool, merge)]
    per_day = max(1, round(0.004 * n))
    k = min(per_day * cal.horizon, len(pool) // 3)
    reparent, retype, manager = pool[:k], pool[k: 2 * k], pool[2 * k: 3 * k]
    day_of_kind = 1 + np.arange(k) // per_day

    parent = book.parent.copy()
    shift = rng.integers(1, len(heads), len(reparent)) if len(heads) > 1 else np.zeros(len(reparent), int)
    new_head = heads[(np.searchsorted(heads, np.maximum(parent[reparent], 0)) + shift) % len(heads)]
    parent[reparent] = new_head
    types = book.customer_type.copy()
    others = {t: [o for o in vocab.CUSTOMER_TYPES if o not in (t, "group")] for t in vocab.CUSTOMER_TYPES}
    types[retype] = [others[t][i % 2] for i, t in enumerate(types[retype])]
    merged_into = book.merged_into.copy()
    merged_into[merge] = heads[rng.integers(0, len(heads), len(merge))]
    managers = accounts["account_manager"].drop_null().unique().to_numpy(zero_copy_only=False)

    planned = np.concatenate([reparent, retype, manager, merge])
    order = np.argsort(planned)
    chosen = planned[order]
    delta_day = np.concatenate([day_of_kind, day_of_kind, day_of_kind, np.ones(len(merge), np.int64)])[order]
    rows = accounts.take(chosen)
    manager_col = rows["account_manager"].to_numpy(zero_copy_only=False).astype(object)
    moved = np.isin(chosen, manager)
    manager_col[moved] = managers[rng.integers(0, len(managers), moved.sum())]
    stamps = cal.day_stamps(rng, delta_day)
    return with_columns(
        rows,
        parent_account_id=pa.array(parent[chosen] + 1, mask=parent[chosen] < 0),
        merged_into_account_id=pa.array(merged_into[chosen] + 1, mask=merged_into[chosen] < 0),
        customer_type=types[chosen], account_manager=manager_col, updated_at=stamps, _changed_at=stamps,
    )


def contact_changes(contacts: pa.Table, cal: ExtractCalendar, rng: np.random.Generator) -> pa.Table:
    """A few accounts get a new primary contact (the old primary is re-sent as not primary, the
    second contact as primary, same timestamp); a few contacts get a new phone number."""
    if contacts.num_rows < 2:
        return contacts.slice(0, 0)
    account = contacts["account_id"].to_numpy()
    primary = contacts["is_primary"].to_numpy(zero_copy_only=False)
    second = np.flatnonzero(~primary[1:] & (account[1:] == account[:-1]) & primary[:-1]) + 1
    k = max(1, round(0.01 * len(second)))
    swap = np.sort(rng.choice(second, min(k, len(second)), replace=False)) if len(second) else second
    stamps = cal.delta_timestamps(rng, len(swap))
    pairs = np.concatenate([swap - 1, swap])
    flipped = with_columns(contacts.take(pairs), is_primary=np.concatenate([np.zeros(len(swap), bool),
                                                                    np.ones(len(swap), bool)]),
                   updated_at=np.tile(stamps, 2), _changed_at=np.tile(stamps, 2))
    rest = np.setdiff1d(np.arange(contacts.num_rows), pairs)
    phone = np.sort(rng.choice(rest, min(len(rest), k), replace=False))
    stamps = cal.delta_timestamps(rng, len(phone))
    rephoned = with_columns(contacts.take(phone), phone=phones(rng, len(phone)), updated_at=stamps, _changed_at=stamps)
    return pa.concat_tables([flipped, rephoned])


def opportunity_changes(opps: pa.Table, cal: ExtractCalendar, rng: np.random.Generator) -> pa.Table:
    """Open opportunities moving one stage on (negotiation -> won)."""
    stage = opps["stage"].to_numpy(zero_copy_only=False)
    open_ = np.flatnonzero(np.isin(stage, vocab.OPEN_STAGES))
    if len(open_) == 0:
        return opps.slice(0, 0)
    chosen = np.sort(rng.choice(open_, min(len(open_), max(1, round(0.05 * len(open_)))), replace=False))
    order = [*vocab.OPEN_STAGES, "won"]
    new_stage = np.array([order[order.index(s) + 1] for s in stage[chosen]])
    probability = np.round(np.array([vocab.STAGE_PROBABILITY[s] for s in new_stage]) * 100).astype(np.int64)
    stamps = cal.delta_timestamps(rng, len(chosen))
    return with_columns(opps.take(chosen), stage=new_stage, probability=probability, updated_at=stamps, _changed_at=stamps)
