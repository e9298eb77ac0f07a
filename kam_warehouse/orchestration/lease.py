"""Airflow tasks and the one writer: the run lease (kam_warehouse.locking) seen from a task.

- `acquire(context)` / `release(context)`: the first task of a writing DAG run claims the build warehouse
  for the whole run (lease holder "<dag_id>/<run_id>"); its teardown task gives it back, also when a task
  in between failed. Clearing a task of the run clears the claim and the teardown with it.
- `writing(context)`: every task that writes holds the write lock for its body, presenting its run's
  lease; a task of a DAG without a lease (an ingest load, maintenance) is kept out while a night holds one.

A busy warehouse never holds a worker or the pool slot: the task is rescheduled (state
`up_for_reschedule`, no retry used), first after `FIRST_RESCHEDULE` (10 s: a skipping night or the
other source's load is over in seconds), then after half the time waited so far, at most every
`KAM_BUSY_RESCHEDULE_SECONDS` (default 20), and fails with the "busy: held by ..." message once it has
waited `nightly.max_runtime_minutes`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from kam_warehouse.errors import WarehouseLocked
from kam_warehouse.orchestration.runtime import log

#: a lease is stale (its run is gone) this long after its last heartbeat, beyond the run timeout
STALE_MARGIN = timedelta(minutes=30)
#: the first reschedule of a waiting writer: most waits (a night that skips, the other source's load) end
#: within seconds, and every try is a task start, so the wait grows from here to busy_reschedule(). Not
#: shorter: Airflow 3.3 marks a task up_for_retry (a retry_delay lost) when it is re-queued before the
#: executor reported its previous try's end, which took 2-3 s on a loaded 2-core host
FIRST_RESCHEDULE = timedelta(seconds=10)


def busy_reschedule() -> timedelta:
    """The longest wait between two tries of a writer task kept out of a busy warehouse."""
    return timedelta(seconds=float(os.environ.get("KAM_BUSY_RESCHEDULE_SECONDS", "20")))


def next_try_after(waited: timedelta) -> timedelta:
    """Wait before the next try: FIRST_RESCHEDULE, then half the time waited so far, capped at
    busy_reschedule() (KAM_BUSY_RESCHEDULE_SECONDS, 20 s by default)."""
    return min(busy_reschedule(), max(FIRST_RESCHEDULE, waited / 2))


def holder(context: Any) -> str:
    """The lease holder name of this task's DAG run."""
    dag_run = context["dag_run"]
    return f"{dag_run.dag_id}/{dag_run.run_id}"


def _owner(context: Any) -> str:
    dag_run, ti = context["dag_run"], context["ti"]
    return f"airflow {dag_run.dag_id}.{ti.task_id} (run {dag_run.run_id})"


def _max_wait() -> timedelta:
    from kam_warehouse.orchestration.config import load

    return load().max_runtime


def stale_after() -> timedelta:
    return _max_wait() + STALE_MARGIN


def _lock_file():  # -> Path
    from kam_warehouse.settings import Settings

    return Settings.from_env().lock_file


def wait_or_fail(exc: WarehouseLocked, context: Any) -> NoReturn:
    """Reschedule the task while the warehouse is busy; fail it (no retry) once it waited too long."""
    reschedule_or_fail(str(exc), context, cause=exc)


def reschedule_or_fail(reason: str, context: Any, *, cause: BaseException | None = None) -> NoReturn:
    """Reschedule the task (state up_for_reschedule: no worker, no pool slot, no retry used) because of
    `reason`; fail it at once with `reason` once it has waited `nightly.max_runtime_minutes`."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowRescheduleException

    now = datetime.now(UTC)
    ti = context["ti"]
    first = ti.get_first_reschedule_date(context) if hasattr(ti, "get_first_reschedule_date") else None
    waited = now - (first or now)
    if waited >= _max_wait():
        raise AirflowFailException(f"{reason} Gave up after waiting {waited}.") from cause
    delay = next_try_after(waited)
    log.info("%s Trying again in %s (waited %s so far).", reason, delay, waited)
    raise AirflowRescheduleException(now + delay) from cause


def acquire(context: Any) -> None:
    """Claim the build warehouse for this DAG run (idempotent for the run's own retries and clears)."""
    from kam_warehouse.locking import acquire_lease

    dag_run = context["dag_run"]
    try:
        acquire_lease(_lock_file(), holder(context), owner=f"airflow {dag_run.dag_id} run {dag_run.run_id}",
                      stale_after=stale_after())
    except WarehouseLocked as exc:
        wait_or_fail(exc, context)


def release(context: Any) -> bool:
    """Give the run's claim back (a no-op when the run does not hold it)."""
    from kam_warehouse.locking import release_lease

    released = release_lease(_lock_file(), holder(context))
    if not released:
        log.info("warehouse lease of %s was not held (already released)", holder(context))
    return released


@contextmanager
def writing(context: Any, *, leased: bool = True) -> Iterator[None]:
    """Hold the write lock for a task body (with the run's lease when `leased`); reschedule while busy."""
    from kam_warehouse.locking import warehouse_lock

    stack = ExitStack()
    try:
        stack.enter_context(warehouse_lock(_lock_file(), owner=_owner(context),
                                           lease=holder(context) if leased else None, stale_after=stale_after()))
    except WarehouseLocked as exc:
        wait_or_fail(exc, context)
    with stack:
        yield
