"""What a task needs from its Airflow context: the RunContext for the pipeline steps, the landing day,
and the rule that separates transient failures (retried) from failures a person must fix (not retried)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import Any

from kam_warehouse.errors import KamError, WarehouseLocked

log = logging.getLogger("kam_warehouse.airflow")

TRIGGERED_BY = "airflow"


def run_context(context: Any, *, load_notices: tuple[str, ...] = ()):  # -> kam_warehouse.pipeline.RunContext
    """The same RunContext `kam run` uses, keyed by the DAG run: every step of one DAG run shares a run_id.
    The Airflow log is the steps' own logging (each line once), so no progress callback. `load_notices`
    (the up-front landing check's) are added to the `load` step's message in ops.pipeline_runs."""
    from kam_warehouse.settings import Settings

    # no progress echo: the steps' own loggers (ingest.load, kam.dbt, ...) already write each line to the
    # task log, and echoing them through `progress` printed every line twice
    return _context_class()(settings=Settings.from_env(), run_id=context["dag_run"].run_id,
                            triggered_by=TRIGGERED_BY, load_notices=tuple(load_notices))


@cache
def _context_class() -> type:
    """kam_warehouse.pipeline.RunContext plus the landing notices its load step records (imported when a
    task runs, never at DAG parse time)."""
    from dataclasses import dataclass

    from kam_warehouse.pipeline import RunContext

    @dataclass(frozen=True)
    class AirflowRunContext(RunContext):
        load_notices: tuple[str, ...] = ()

        @contextmanager
        def step(self, name: str) -> Iterator[Any]:
            with super().step(name) as record:
                yield record
                if name == "load" and self.load_notices:
                    record.message = "; ".join([record.message or "nothing new to load",
                                                *(f"not read: {n}" for n in self.load_notices)])

    return AirflowRunContext


def landing_day(context: Any) -> date:
    """The extract day a run stands for: its logical date (else the start of its data interval).

    A scheduled daily run's logical date is the start of its interval (the day whose extract it loads).
    A manual run (`airflow dags test ingest_crm 2025-01-31`, a trigger with --logical-date) names the day
    itself, while Airflow infers the interval *ending* then — so the logical date comes first.
    """
    start = context.get("logical_date") or context.get("data_interval_start")
    if start is None:
        raise KamError("this run has neither a data interval nor a logical date; trigger it with a logical date "
                       "(e.g. `airflow dags trigger <dag> --logical-date 2025-01-31`)")
    return start.date()


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: a busy warehouse (our lock, an engine's: kam_warehouse.core.warehouse.transient),
    a warehouse server out of reach, I/O hiccups, time-outs.

    Everything else fails at once: a KamError needs a person (rejected file, gate block, bad config),
    and a programming error will not fix itself on retry.
    """
    from kam_warehouse.core.warehouse import transient

    return isinstance(exc, WarehouseLocked | OSError | TimeoutError) or transient(exc)


@contextmanager
def fail_fast() -> Iterator[None]:
    """Turn a non-transient error (rejected file, gate block, bad config, a bug) into AirflowFailException,
    so Airflow fails the task at once, without retries, with the original message."""
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowRescheduleException,
        AirflowSkipException,
    )

    try:
        yield
    except (AirflowSkipException, AirflowRescheduleException, AirflowFailException):
        raise  # Airflow's own control flow: skip, reschedule, fail (already decided)
    except Exception as exc:
        if is_transient(exc):
            raise
        raise AirflowFailException(f"{type(exc).__name__}: {exc}" if not isinstance(exc, KamError) else str(exc)) from exc
