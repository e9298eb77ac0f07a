"""The logic behind the DAGs that runs without a scheduler: deadline check, the night plan, a busy
warehouse, log pruning, the fail-fast rule."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.errors import GateBlocked, WarehouseLocked
from kam_warehouse.orchestration.deadline import DeadlineMissed, check_published, cron_for
from kam_warehouse.orchestration.maintenance import prune_logs
from kam_warehouse.orchestration.runtime import fail_fast


def _serving(path: Path, days: dict[str, list[str]]) -> Path:
    """A serving file whose ops.load_manifest shows `days` loaded per source (and a rejected later day)."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute("CREATE TABLE ops.load_manifest (source VARCHAR, extract_day DATE, status VARCHAR)")
        for source, loaded in days.items():
            for day in loaded:
                con.execute("INSERT INTO ops.load_manifest VALUES (?, ?, 'loaded')", [source, day])
            con.execute("INSERT INTO ops.load_manifest VALUES (?, DATE '2030-01-01', 'rejected')", [source])
    return path


def test_deadline_passes_when_yesterday_is_published_for_every_source(tmp_path: Path) -> None:
    """At the deadline on D+1, serving showing day D for billing and crm passes and returns their days."""
    serving = _serving(tmp_path / "serving.duckdb", {"billing": ["2025-01-30", "2025-01-31"], "crm": ["2025-01-31"]})
    assert check_published(serving, deadline_at=datetime(2025, 2, 1, 6, tzinfo=UTC), deadline=time(6, 0)) == {
        "billing": "2025-01-31", "crm": "2025-01-31"}
    assert cron_for(time(6, 30)) == "30 6 * * *"


def test_deadline_missed_names_each_late_source_and_day(tmp_path: Path) -> None:
    """A source whose due day is not published (or a missing serving file) raises DeadlineMissed naming the
    source, the due day and what serving has; rejected days do not count as published."""
    serving = _serving(tmp_path / "serving.duckdb", {"billing": ["2025-01-31"], "crm": ["2025-01-30"]})
    with pytest.raises(DeadlineMissed) as err:
        check_published(serving, deadline_at=datetime(2025, 2, 1, 6, tzinfo=UTC), deadline=time(6, 0))
    assert "crm day 2025-01-31 is not published (serving has crm through 2025-01-30)" in str(err.value)
    assert "billing day" not in str(err.value) and "06:00 UTC on 2025-02-01" in str(err.value)
    with pytest.raises(DeadlineMissed, match=r"billing day 2025-01-31 .*no day.*crm day 2025-01-31"):
        check_published(tmp_path / "missing.duckdb", deadline_at=datetime(2025, 2, 1, 6, tzinfo=UTC),
                        deadline=time(6, 0))


def _build(path: Path, batches: list[tuple[str, str, str]]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.load_batches (batch_id VARCHAR, source VARCHAR, extract_day DATE, "
                    "run_id VARCHAR, files INTEGER, loaded_at TIMESTAMP)")
        for source, day, at in batches:
            con.execute("INSERT INTO raw.load_batches VALUES ('b', ?, ?, 'r', 1, ?)", [source, day, at])
    return path


def test_plan_runs_only_for_days_complete_in_both_sources(tmp_path: Path) -> None:
    """Nothing published: runs through the latest common day. A day only one source has is not enough,
    and the plan names the source that is behind and the day it lacks."""
    from kam_warehouse.orchestration.night import read_plan

    both = _build(tmp_path / "a.duckdb", [("billing", "2025-01-01", "2025-01-02 00:10"),
                                           ("crm", "2025-01-01", "2025-01-02 00:20")])
    plan = read_plan(both, tmp_path / "no-serving.duckdb")
    assert plan.should_run and plan.publishable == [("billing", date(2025, 1, 1)), ("crm", date(2025, 1, 1))]
    one = _build(tmp_path / "b.duckdb", [("billing", "2025-01-01", "2025-01-02 00:10")])
    plan = read_plan(one, tmp_path / "no-serving.duckdb")
    assert not plan.should_run
    assert [lag.describe() for lag in plan.lags] == [
        "source crm is behind billing: crm day(s) 2025-01-01 not loaded (billing loaded them since "
        "2025-01-02 00:10 UTC)"]


def test_plan_after_publish_sees_a_day_reloaded_by_one_source(tmp_path: Path, monkeypatch) -> None:
    """Batches loaded before the served build's publish are published; a fixed day re-loaded by one source
    after it (the other source already had it) makes the night run; a lag older than the grace alerts."""
    from kam_warehouse.orchestration import night
    from kam_warehouse.serving import builds

    info = builds.BuildInfo("b", tmp_path / "s.duckdb", "run1", datetime(2025, 1, 3, 1, 0), date(2025, 1, 2))
    monkeypatch.setattr(builds, "read_info", lambda _p: info)
    db = _build(tmp_path / "c.duckdb", [("billing", "2025-01-01", "2025-01-02 00:10"),
                                         ("crm", "2025-01-01", "2025-01-02 00:20"),
                                         ("crm", "2025-01-02", "2025-01-03 00:20")])
    plan = night.read_plan(db, tmp_path / "s.duckdb")
    assert not plan.should_run and plan.lags[0].source == "billing" and plan.lags[0].days == (date(2025, 1, 2),)
    assert night.overdue_lags(plan, now=datetime(2025, 1, 3, 2, 0), grace=timedelta(hours=6)) == []
    assert len(night.overdue_lags(plan, now=datetime(2025, 1, 3, 7, 0), grace=timedelta(hours=6))) == 1
    fixed = _build(tmp_path / "d.duckdb", [("billing", "2025-01-01", "2025-01-02 00:10"),
                                            ("crm", "2025-01-01", "2025-01-02 00:20"),
                                            ("crm", "2025-01-02", "2025-01-03 00:20"),
                                            ("billing", "2025-01-02", "2025-01-03 09:00")])
    plan = night.read_plan(fixed, tmp_path / "s.duckdb")
    assert plan.publishable == [("billing", date(2025, 1, 2))] and not plan.lags


def test_billing_never_loads_ahead_of_crm(tmp_path: Path) -> None:
    """billing loads a day only once crm has loaded it (its rows reference crm's accounts): through crm's
    latest day, waiting for crm's day; crm itself never waits."""
    from kam_warehouse.orchestration.tasks import loadable_through

    empty = tmp_path / "none.duckdb"
    assert loadable_through("billing", date(2025, 1, 2), empty) == (None, "crm day 2025-01-02")
    db = _build(tmp_path / "b.duckdb", [("crm", "2025-01-01", "2025-01-02 00:10")])
    assert loadable_through("billing", date(2025, 1, 2), db) == (date(2025, 1, 1), "crm day 2025-01-02")
    assert loadable_through("billing", date(2025, 1, 1), db) == (date(2025, 1, 1), None)
    assert loadable_through("crm", date(2025, 1, 5), empty) == (date(2025, 1, 5), None)


class _TI:
    task_id = "load_landing"

    def __init__(self, first: datetime | None) -> None:
        self.first = first

    def get_first_reschedule_date(self, context) -> datetime | None:
        return self.first


def _context(first: datetime | None = None):
    from types import SimpleNamespace

    return {"dag_run": SimpleNamespace(dag_id="ingest_crm", run_id="scheduled__2025-01-02"), "ti": _TI(first)}


def test_busy_warehouse_reschedules_the_task_then_gives_up(tmp_path: Path, monkeypatch) -> None:
    """A writer task meeting another run's lease is rescheduled (no retry used, no slot held); after
    waiting nightly.max_runtime it fails at once with the busy message naming the holder."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowRescheduleException

    from kam_warehouse.locking import acquire_lease
    from kam_warehouse.orchestration import lease

    monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path))
    acquire_lease(tmp_path / ".build.lock", "kam_nightly/n1", owner="airflow kam_nightly run n1")
    with pytest.raises(AirflowRescheduleException), lease.writing(_context(), leased=False):
        pytest.fail("must not run while the night holds the warehouse")
    long_ago = datetime.now(UTC) - timedelta(days=1)
    with pytest.raises(AirflowFailException, match=r"busy: .*kam_nightly/n1.*Gave up"), \
            lease.writing(_context(long_ago), leased=False):
        pytest.fail("must not run")
    acquire_lease(tmp_path / ".build.lock", "ingest_crm/scheduled__2025-01-02", owner="x", stale_after=timedelta(0))
    with lease.writing(_context()):
        pass


def test_prune_logs_keeps_recent_files(tmp_path: Path) -> None:
    """Only log files older than the retention are deleted, and emptied folders go with them."""
    old = tmp_path / "dag_id=a" / "run_id=1" / "attempt=1.log"
    new = tmp_path / "dag_id=b" / "attempt=1.log"
    for f in (old, new):
        f.parent.mkdir(parents=True)
        f.write_text("log")
    stamp = datetime.now(UTC).timestamp() - 40 * 86400
    os.utime(old, (stamp, stamp))
    assert prune_logs(tmp_path, older_than_days=30) == 1
    assert new.exists() and not old.exists() and not (tmp_path / "dag_id=a").exists()


def test_compact_runs_on_a_real_duckdb_file(tmp_path: Path) -> None:
    """The maintenance compaction (FORCE CHECKPOINT on DuckDB) works on a file and reports its size."""
    from kam_warehouse.core.warehouse import as_warehouse

    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    before, after = as_warehouse(db).compact()
    assert before > 0 and after > 0
    assert as_warehouse(tmp_path / "none.duckdb").compact() == (0, 0)


def test_fail_fast_converts_person_errors_and_keeps_transient_ones() -> None:
    """A gate block / bug fails without retry (AirflowFailException); a busy warehouse stays retryable."""
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=r"blocking check.*orphan_lines"), fail_fast():
        raise GateBlocked(["orphan_lines"])
    with pytest.raises(AirflowFailException, match="AttributeError"), fail_fast():
        raise AttributeError("bug")
    with pytest.raises(WarehouseLocked), fail_fast():
        raise WarehouseLocked("busy")
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException), fail_fast():
        raise AirflowSkipException("no month due")


def test_landing_day_is_the_logical_date_for_scheduled_and_manual_runs() -> None:
    """`airflow dags test ingest_crm 2025-01-31` must load 2025-01-31's folder: Airflow infers a manual run's
    interval as the day *ending* at its logical date, so the logical date (not the interval start) decides;
    a scheduled run's logical date is its interval start, the same day."""
    from datetime import UTC, datetime

    from kam_warehouse.orchestration.runtime import landing_day

    manual = {"logical_date": datetime(2025, 1, 31, tzinfo=UTC),
              "data_interval_start": datetime(2025, 1, 30, tzinfo=UTC)}
    scheduled = {"logical_date": datetime(2025, 1, 30, tzinfo=UTC),
                 "data_interval_start": datetime(2025, 1, 30, tzinfo=UTC)}
    assert landing_day(manual).isoformat() == "2025-01-31"
    assert landing_day(scheduled).isoformat() == "2025-01-30"
    assert landing_day({"logical_date": None, "data_interval_start": datetime(2025, 1, 2, tzinfo=UTC)}).day == 2


def test_dbt_layers_cover_every_model_once_and_form_no_cycle() -> None:
    """The dbt_models tasks: one per layer (seeds, staging, intermediate, marts, ops), every model and seed
    in exactly one; a model reading a later layer's model (int_group_tier_inputs reads a mart) moves to
    that layer, so no layer reads one that comes after it."""
    from kam_warehouse.orchestration.dbt_models import LAYERS, task_layers, task_nodes

    layers = task_layers()
    assert [x.name for x in layers] == list(LAYERS)
    members = [m for x in layers for m in x.models]
    assert sorted(members) == sorted(n.name for n in task_nodes()) and len(members) == len(set(members))
    order = {x.name: i for i, x in enumerate(layers)}
    assert all(order[u] < order[x.name] for x in layers for u in x.upstream)
    layer_of = {m: x.name for x in layers for m in x.models}
    assert layer_of["int_group_tier_inputs"] == "marts" and layer_of["int_account_groups"] == "intermediate"
    assert layer_of["tier_weights"] == "seeds" and layer_of["stg_crm__accounts"] == "staging"


def test_dbt_layer_report_names_each_failed_and_unbuilt_model() -> None:
    """A layer task is green when all its models passed; red naming every failed model with dbt's message
    and every model left unbuilt; a cleared one rebuilds only those (all, when every model passed)."""
    from kam_warehouse.errors import KamError
    from kam_warehouse.orchestration.dbt_models import rebuild_selection, report_layer

    models = ("a", "b", "c")
    ok = {m: {"status": "success", "message": ""} for m in models}
    assert report_layer("marts", models, ok) == "dbt layer marts: 3 model(s) and their tests passed"
    bad = {**ok, "b": {"status": "failed", "message": "test not_null_b_id failed: 2 rows"},
           "c": {"status": "skipped", "message": ""}}
    with pytest.raises(KamError, match=r"(?s)1 failed:\nb:\ntest not_null_b_id failed: 2 rows.*not built .*: c"):
        report_layer("marts", models, bad)
    with pytest.raises(KamError, match="no result from the `dbt_build` task"):
        report_layer("marts", models, None)
    assert rebuild_selection(models, bad) == ("b", "c")
    assert rebuild_selection(models, ok) == models == rebuild_selection(models, None)


def test_a_waiting_writer_tries_again_soon_then_less_often(monkeypatch) -> None:
    """A writer kept out of a busy warehouse tries again after 10 s (a skipping night or the other source's
    load is over in seconds), then after half the time waited, at most every KAM_BUSY_RESCHEDULE_SECONDS."""
    from kam_warehouse.orchestration.lease import next_try_after

    monkeypatch.setenv("KAM_BUSY_RESCHEDULE_SECONDS", "20")
    waits = [next_try_after(timedelta(seconds=s)).total_seconds() for s in (0, 10, 30, 3600)]
    assert waits == [10.0, 10.0, 15.0, 20.0]
    monkeypatch.setenv("KAM_BUSY_RESCHEDULE_SECONDS", "3")
    assert next_try_after(timedelta(0)).total_seconds() == 3.0


def test_ingest_shows_the_landing_checks_notices_for_its_source(tmp_path: Path, monkeypatch) -> None:
    """The ingest task runs kam run's up-front landing check: a missing landing zone fails it naming the
    path; a day folder without _SUCCESS is a notice for its own source's task (not the other's), and a
    folder that is no source's is shown to both."""
    from kam_warehouse.errors import LandingProblem
    from kam_warehouse.orchestration.tasks import landing_notices
    from kam_warehouse.settings import Settings

    landing = tmp_path / "landing"
    settings = Settings.from_env(landing, tmp_path / "wh")
    with pytest.raises(LandingProblem, match="does not exist"):
        landing_notices("billing", settings)
    for source, day in (("billing", "2025-01-01"), ("crm", "2025-01-01"), ("billing", "2025-01-02")):
        (landing / source / day).mkdir(parents=True)
    (landing / "billing" / "2025-01-01" / "_SUCCESS").touch()
    (landing / "crm" / "2025-01-01" / "_SUCCESS").touch()
    (landing / "bilings").mkdir()
    billing = landing_notices("billing", settings)
    assert "billing/2025-01-02: no _SUCCESS yet, not read" in billing
    assert any(n.startswith("bilings/") for n in billing)
    crm = landing_notices("crm", settings)
    assert not any("billing/" in n for n in crm) and any(n.startswith("bilings/") for n in crm)


def test_a_lag_alert_says_what_the_landing_shows_and_what_to_do(tmp_path: Path) -> None:
    """The 'source behind' alert names, per missing day, what landed (nothing / no _SUCCESS / complete but
    not loaded) and who does what."""
    from kam_warehouse.orchestration.night import Lag, what_to_do

    landing = tmp_path / "landing"
    (landing / "billing" / "2025-01-02").mkdir(parents=True)
    (landing / "billing" / "2025-01-03").mkdir(parents=True)
    (landing / "billing" / "2025-01-03" / "_SUCCESS").touch()
    lag = Lag("billing", "crm", (date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 4)), datetime(2025, 1, 3))
    text = what_to_do(lag, landing)
    assert "billing/2025-01-02: landed without its _SUCCESS marker" in text
    assert "billing/2025-01-03: complete in landing but not loaded: see the ingest_billing run" in text
    assert "billing/2025-01-04: nothing has landed" in text and "ask the owner of the billing extract" in text
    assert "the nightly skips and crm's later day(s) wait unpublished" in text


def test_preload_never_stops_a_service(monkeypatch, caplog) -> None:
    """The services' warm-up imports what task processes inherit; a module that fails to import is logged,
    never raised (the service starts, the task imports it itself); the heavy set only in the scheduler."""
    import logging
    import sys

    from kam_warehouse.orchestration import preload

    monkeypatch.setattr(preload, "MODULES", ("kam_warehouse.orchestration.night", "no_such_module_kam"))
    monkeypatch.setattr(preload, "SCHEDULER_MODULES", ("no_such_scheduler_module_kam",))
    with caplog.at_level(logging.WARNING, logger=preload.__name__):
        preload.preload(["airflow", "api-server"])
        assert [r.getMessage().split(" failed")[0] for r in caplog.records] == ["preload of no_such_module_kam"]
        preload.preload(["airflow", "scheduler"])
    assert "preload of no_such_scheduler_module_kam" in caplog.text
    assert "kam_warehouse.orchestration.night" in sys.modules


def test_every_preloaded_module_exists() -> None:
    """A renamed module in the warm-up lists would only log a warning in the services (and the tasks would
    quietly pay the import again): every name must import here."""
    import importlib

    from kam_warehouse.orchestration import preload

    for name in (*preload.MODULES, *preload.SCHEDULER_MODULES):
        importlib.import_module(name)
