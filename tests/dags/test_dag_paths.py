"""Every DAG through dag.test() on each of its paths, with real extracts, dbt, GX and DuckDB:
ingest -> nightly publishes; a night with nothing new skips; a rejected day fixed and re-loaded alone is
published without a manual nightly; the deadline passes on time and fails naming source and day when
late; finance_monthly skips on ordinary days and closes + publishes + reports on close day;
warehouse_maintenance runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.locking import read_lease
from kam_warehouse.orchestration.deadline import published_through

pytestmark = pytest.mark.e2e

DAY1, DAY2 = date(2024, 2, 1), date(2024, 2, 2)


def _at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def run_dag(dagbag, dag_id: str, logical: datetime) -> tuple[str, dict[str, str]]:
    """dag.test() for one logical date: the run's state and every task's state."""
    run = dagbag.dags[dag_id].test(logical_date=logical)
    return str(run.state), {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


class Env:
    """KAM_LANDING_DIR / KAM_WAREHOUSE_DIR for the DAG runs of one test."""

    def __init__(self, landing: Path, warehouse: Path) -> None:
        self.landing, self.warehouse = landing, warehouse

    def __enter__(self) -> Env:
        self._saved = {k: os.environ.get(k) for k in ("KAM_LANDING_DIR", "KAM_WAREHOUSE_DIR")}
        os.environ["KAM_LANDING_DIR"], os.environ["KAM_WAREHOUSE_DIR"] = str(self.landing), str(self.warehouse)
        return self

    def __exit__(self, *exc: object) -> None:
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def copy(self, dest: Path) -> Env:
        """An independent copy of landing and warehouse (so one test's path does not change another's)."""
        shutil.copytree(self.landing, dest / "landing")
        shutil.copytree(self.warehouse, dest / "wh", symlinks=True)
        return Env(dest / "landing", dest / "wh")


@pytest.fixture(scope="module")
def published(airflow_db, dagbag, tmp_path_factory) -> Iterator[tuple[Env, dict]]:
    """Both ingest DAGs and kam_nightly for DAY1 on generated extracts (DAY2 lands but is not ingested)."""
    from sample_extracts import GeneratorOptions, generate

    root = tmp_path_factory.mktemp("published")
    generate(GeneratorOptions(out=root / "landing", accounts=12, months=13, days=2, seed=11))
    env = Env(root / "landing", root / "wh")
    with env:
        states = {dag_id: run_dag(dagbag, dag_id, _at(DAY1)) for dag_id in ("ingest_crm", "ingest_billing")}
        states["kam_nightly"] = run_dag(dagbag, "kam_nightly", _at(DAY1, 1))
    yield env, states


def test_ingest_then_nightly_publishes_the_day(published) -> None:
    """ingest_crm, ingest_billing, kam_nightly succeed; serving shows both sources through DAY1, the run's
    steps in ops.pipeline_runs, and the lease is given back."""
    env, states = published
    for dag_id, (state, tis) in states.items():
        assert state == "success", (dag_id, tis)
    nightly = states["kam_nightly"][1]
    assert nightly["claim_warehouse"] == nightly["publish"] == nightly["release_warehouse"] == "success"
    serving = env.warehouse / "serving.duckdb"
    assert published_through(serving) == {"billing": DAY1, "crm": DAY1}
    with duckdb.connect(str(serving), read_only=True) as con:
        steps = dict(con.execute("SELECT step, status FROM ops.pipeline_runs WHERE triggered_by='airflow' "
                                 "AND run_id LIKE 'manual__%' AND step <> 'load'").fetchall())
    assert steps == {"dbt_build": "success", "quality_gate": "success", "tiers": "success",
                     "publish": "success"}
    assert read_lease(env.warehouse / ".build.lock") is None


def test_nightly_skips_when_nothing_new(dagbag, published, tmp_path) -> None:
    """A night with every loaded day already published skips (claim skipped, nothing rebuilt or published)."""
    env = published[0].copy(tmp_path)
    serving = env.warehouse / "serving.duckdb"
    before = serving.stat().st_mtime_ns
    with env:
        state, tis = run_dag(dagbag, "kam_nightly", _at(DAY1, 2))
    assert state == "success"
    assert tis["claim_warehouse"] == tis["dbt_build"] == tis["publish"] == "skipped", tis
    assert serving.stat().st_mtime_ns == before
    assert read_lease(env.warehouse / ".build.lock") is None


def test_rejected_day_fixed_and_reloaded_alone_is_published(dagbag, published, tmp_path) -> None:
    """DAY2: crm loads, billing's file is rejected -> the nightly skips (billing behind); billing's fixed
    file is re-loaded alone -> the next nightly publishes DAY2 for both sources, no manual nightly; the
    marts published day by day equal those of one catch-up run over the same extracts."""
    env = published[0].copy(tmp_path)
    lines = env.landing / "billing" / DAY2.isoformat() / "invoice_lines.csv"
    good = lines.read_bytes()
    lines.write_bytes(b"")
    with env:
        assert run_dag(dagbag, "ingest_crm", _at(DAY2))[0] == "success"
        state, tis = run_dag(dagbag, "ingest_billing", _at(DAY2))
        assert (state, tis["load_landing"]) == ("failed", "failed")
        state, tis = run_dag(dagbag, "kam_nightly", _at(DAY2, 1))
        assert tis["claim_warehouse"] == "skipped", tis
        assert published_through(env.warehouse / "serving.duckdb") == {"billing": DAY1, "crm": DAY1}
        lines.write_bytes(good)
        assert run_dag(dagbag, "ingest_billing", _at(DAY2))[0] == "success"
        state, tis = run_dag(dagbag, "kam_nightly", _at(DAY2, 2))
    assert state == "success", tis
    assert published_through(env.warehouse / "serving.duckdb") == {"billing": DAY2, "crm": DAY2}
    once = _one_catch_up_run(env.landing, tmp_path / "once", through=DAY2)
    assert _marts(env.warehouse / "serving.duckdb") == _marts(once), "day by day must equal one catch-up run"


def test_a_source_that_stops_landing_is_alerted_with_what_to_do(dagbag, published, tmp_path, monkeypatch,
                                                                 caplog) -> None:
    """billing stops landing: its DAY2 folder never gets _SUCCESS while crm's DAY2 loads. The ingest task
    shows the landing check's notice (task log and the load row of ops.pipeline_runs); once billing has
    been behind longer than nightly.landing_wait_hours, kam_nightly skips and alerts naming the source,
    the day, what the landing shows and what to do."""
    import logging
    import time

    from kam_warehouse.orchestration import config
    from kam_warehouse.settings import Settings

    env = published[0].copy(tmp_path)
    (env.landing / "billing" / DAY2.isoformat() / "_SUCCESS").unlink()
    config_dir = tmp_path / "config"
    shutil.copytree(Settings.from_env().config_dir, config_dir)
    pipeline = config_dir / "pipeline.yml"
    pipeline.write_text(pipeline.read_text().replace("landing_wait_hours: 6 ", "landing_wait_hours: 0.0005 "))
    monkeypatch.setenv("KAM_CONFIG_DIR", str(config_dir))
    config.load.cache_clear()  # the orchestration config is read once per process
    try:
        with env, caplog.at_level(logging.INFO):
            assert run_dag(dagbag, "ingest_crm", _at(DAY2))[0] == "success"
            assert run_dag(dagbag, "ingest_billing", _at(DAY1))[0] == "success"  # DAY1's run, re-run
            time.sleep(2)  # > landing_wait_hours (1.8 s)
            state, tis = run_dag(dagbag, "kam_nightly", _at(DAY2, 1))
    finally:
        config.load.cache_clear()
    notice = f"billing/{DAY2}: no _SUCCESS yet, not read"
    assert any(notice in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING), notice
    with duckdb.connect(str(Settings.from_env(env.landing, env.warehouse).build_db), read_only=True) as con:
        row = con.execute("SELECT message FROM ops.pipeline_runs WHERE step = 'load' AND triggered_by = 'airflow' "
                          "ORDER BY started_at DESC LIMIT 1").fetchone()
    assert row and row[0] == f"nothing new to load; not read: {notice}", row
    assert (state, tis["claim_warehouse"]) == ("success", "skipped"), tis
    alerts = [r.getMessage() for r in caplog.records if r.name == "kam_warehouse.alerts"]
    assert len(alerts) == 1, alerts
    assert alerts[0].startswith(f"KAM Warehouse: source billing is behind crm: billing day(s) {DAY2} not loaded")
    assert f"billing/{DAY2}: landed without its _SUCCESS marker" in alerts[0]
    assert "ask its owner to complete the delivery" in alerts[0]
    assert published_through(env.warehouse / "serving.duckdb") == {"billing": DAY1, "crm": DAY1}
    assert read_lease(env.warehouse / ".build.lock") is None


def _one_catch_up_run(landing: Path, warehouse: Path, *, through: date) -> Path:
    """`kam run`'s steps (no scheduler) in one go over the same landing days up to `through` (a copy
    without the later day folders); returns its serving file."""
    from kam_warehouse.pipeline import RunContext, run_nightly
    from kam_warehouse.settings import Settings

    copy = warehouse.parent / f"{warehouse.name}-landing"
    shutil.copytree(landing, copy)
    for folder in copy.glob("*/*"):
        if folder.is_dir() and folder.name > through.isoformat():
            shutil.rmtree(folder)
    settings = Settings.from_env(copy, warehouse)
    run_nightly(RunContext.new(settings))
    return settings.serving_db


def _marts(serving: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall()
                for t in ("fct_account_revenue_monthly", "mart_revenue_concentration_monthly")}


def test_deadline_passes_on_time_and_fails_when_late(dagbag, published) -> None:
    """kam_nightly_deadline succeeds when yesterday is published for every source, and fails at once (no
    retry) when it is not."""
    env = published[0]
    with env:
        on_time = run_dag(dagbag, "kam_nightly_deadline", _at(DAY2, 6))
        late = run_dag(dagbag, "kam_nightly_deadline", _at(date(2024, 2, 3), 6))
    assert on_time == ("success", {"check_nightly_published": "success"})
    assert late == ("failed", {"check_nightly_published": "failed"})


def test_finance_monthly_skips_when_no_month_is_due(dagbag, published) -> None:
    """Before close.day_of_month every finance_monthly task is skipped (not failed) and nothing is claimed."""
    env = published[0]
    with env:
        state, tis = run_dag(dagbag, "finance_monthly", _at(date(2024, 2, 3), 7))
    assert state == "success"
    assert set(tis.values()) == {"skipped"}, tis
    assert read_lease(env.warehouse / ".build.lock") is None


def test_finance_monthly_closes_publishes_and_reports_on_close_day(dagbag, published, tmp_path) -> None:
    """On close day the previous month is closed, served (closed figures in serving) and reported."""
    env = published[0].copy(tmp_path)
    with env:
        state, tis = run_dag(dagbag, "finance_monthly", _at(date(2024, 2, 5), 7))
    assert state == "success", tis
    assert set(tis.values()) == {"success"}, tis
    with duckdb.connect(str(env.warehouse / "serving.duckdb"), read_only=True) as con:
        closed = con.execute("SELECT count(*), min(closed_by), max(closed_by) FROM marts.mart_finance_concentration_closed "
                             "WHERE closed_month = DATE '2024-01-01'").fetchone()
    assert closed and closed[0] > 0
    # the close names the DAG that made it (not the worker's OS user)
    assert closed[1] == closed[2] and closed[1].startswith("Airflow finance_monthly ("), closed
    reports = {p.suffix for p in (env.warehouse / "reports").rglob("*") if p.is_file()}
    assert {".xlsx", ".html", ".csv"} <= reports
    assert read_lease(env.warehouse / ".build.lock") is None


def test_warehouse_maintenance_runs(dagbag, published, tmp_path) -> None:
    """warehouse_maintenance prunes builds, checkpoints build.duckdb and prunes logs: all succeed."""
    env = published[0].copy(tmp_path)
    with env:
        state, tis = run_dag(dagbag, "warehouse_maintenance", _at(date(2024, 2, 4), 3))
    assert (state, set(tis.values())) == ("success", {"success"}), tis
    assert (env.warehouse / "serving.duckdb").exists()
