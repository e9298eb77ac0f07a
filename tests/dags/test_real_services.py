"""The real Airflow 3 services as they are operated: `scripts/airflow-local.sh up` starts api-server,
scheduler, dag-processor and triggerer (LocalExecutor, 127.0.0.1); two days land one after the other,
then a day whose billing file is rejected and re-delivered fixed. Through the REST API: every day goes
ingest -> nightly -> publish in order, without a manual nightly, no writer runs inside a night, each
task log line appears once, a sensor waiting for a day that never lands blocks nothing; `down` stops
every process `up` started."""

from __future__ import annotations

import os
import socket
import subprocess
from collections import Counter
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from kam_warehouse.orchestration.deadline import published_through
from kam_warehouse.orchestration.rest_client import AirflowRest, wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "airflow-local.sh"
DAYS = (date(2024, 2, 1), date(2024, 2, 2), date(2024, 2, 3))
SOURCES = ("crm", "billing")
DONE = {"success", "failed", "skipped", "upstream_failed"}
WAIT = 900.0  # per stage; a whole run takes ~3-5 min on an idle 2-core host


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _alive(pid: int, *, group: bool = False) -> bool:
    """Does the process (or, with group, any process of the group `pid` leads) still exist?"""
    try:
        (os.killpg if group else os.kill)(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def services(tmp_path: Path):
    """`up` on a fresh AIRFLOW_HOME with generated extracts; `down` afterwards whatever happens."""
    from sample_extracts import GeneratorOptions, generate

    generate(GeneratorOptions(out=tmp_path / "landing", accounts=12, months=13, days=2, seed=11))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env |= {"AIRFLOW_HOME": str(tmp_path / "airflow"), "KAM_AIRFLOW_PORT": str(port),
            "KAM_LANDING_DIR": str(tmp_path / "landing"), "KAM_WAREHOUSE_DIR": str(tmp_path / "wh"),
            "KAM_BUSY_RESCHEDULE_SECONDS": "3", "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
    up = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=600)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield env, port, up.stdout
    finally:
        subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, text=True, timeout=300)


def _writer_windows(rest: AirflowRest, dag_ids: tuple[str, ...]) -> list[dict]:
    """Every task instance that ran in the kam_warehouse pool, with its dag/run and final try's interval.
    A task the scheduler marked skipped without running it (a skipped night's dbt_build, publish, ...) has
    start = end at the moment it was marked: it never ran, so it is no writer."""
    out = []
    for dag_id in dag_ids:
        for run in rest.runs(dag_id):
            for ti in rest.task_instances(dag_id, run["dag_run_id"]):
                never_ran = ti["state"] == "skipped" and ti["start_date"] == ti["end_date"]
                if ti["pool"] == "kam_warehouse" and ti["start_date"] and ti["end_date"] and not never_ran:
                    out.append({"dag": dag_id, "run": run["dag_run_id"], "task": ti["task_id"], "state": ti["state"],
                                "start": _when(ti["start_date"]), "end": _when(ti["end_date"])})
    return out


def test_days_flow_ingest_nightly_publish_in_order_under_the_real_scheduler(services) -> None:
    """See the module docstring: the whole operated path, asserted through the REST API."""
    env, port, up_out = services
    home = Path(env["AIRFLOW_HOME"])
    assert f"http://127.0.0.1:{port}" in up_out and "login: admin / " in up_out
    rest = AirflowRest(f"http://127.0.0.1:{port}", home / "simple_auth_manager_passwords.json.generated")
    dag_ids = ("ingest_crm", "ingest_billing", "kam_nightly")
    wait_for("the DAGs to be parsed", lambda: set(dag_ids) <= {
        d["dag_id"] for d in rest.get("/api/v2/dags?limit=50")["dags"]}, timeout=WAIT)
    for dag_id in dag_ids:
        rest.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
    serving = Path(env["KAM_WAREHOUSE_DIR"]) / "serving.duckdb"
    landing = Path(env["KAM_LANDING_DIR"])

    def published(day: date):
        return published_through(serving) == {"billing": day, "crm": day}

    for day in DAYS[:2]:
        for source in SOURCES:
            rest.trigger(f"ingest_{source}", f"day__{day}", datetime(day.year, day.month, day.day, tzinfo=UTC))
        wait_for(f"{day} published for both sources", lambda d=day: published(d), timeout=WAIT)

    rejected = landing / "billing" / DAYS[2].isoformat() / "invoice_lines.csv"
    good = rejected.read_bytes()
    rejected.write_bytes(b"")
    for source in SOURCES:
        rest.trigger(f"ingest_{source}", f"day__{DAYS[2]}", datetime(2024, 2, 3, tzinfo=UTC))

    def run_state(dag_id: str, run_id: str) -> str:
        return rest.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]

    wait_for("billing's rejected day to fail", lambda: run_state("ingest_billing", f"day__{DAYS[2]}") == "failed",
             timeout=WAIT)
    wait_for("crm's day to load", lambda: run_state("ingest_crm", f"day__{DAYS[2]}") == "success", timeout=WAIT)
    wait_for("the nightlies to settle", lambda: all(r["state"] in DONE for r in rest.runs("kam_nightly")),
             timeout=WAIT)
    assert published(DAYS[1]), "a day complete for one source only must not be published"
    rejected.write_bytes(good)
    rest.post("/api/v2/dags/ingest_billing/clearTaskInstances",
              {"dry_run": False, "dag_run_id": f"day__{DAYS[2]}", "task_ids": ["load_landing"],
               "only_failed": True, "reset_dag_runs": True})
    wait_for(f"{DAYS[2]} published after the fix, without a manual nightly", lambda: published(DAYS[2]),
             timeout=WAIT)
    wait_for("every run to finish", lambda: all(
        r["state"] in DONE for d in dag_ids for r in rest.runs(d) if r["dag_run_id"].startswith(("day__", "asset"))),
        timeout=WAIT)

    # unpausing started today's scheduled ingest runs, whose sensors wait for a day that never lands:
    # every day above went through regardless (catch-up is never blocked by a waiting sensor)
    for source in SOURCES:
        waiting = [r for r in rest.runs(f"ingest_{source}") if r["run_type"] == "scheduled"]
        assert waiting and all(r["state"] == "running" for r in waiting), waiting
        sensor = {ti["task_id"]: ti["state"] for ti in rest.task_instances(f"ingest_{source}",
                                                                             waiting[0]["dag_run_id"])}
        assert sensor["wait_for_landing"] in {"up_for_reschedule", "running", "queued", "scheduled"}, sensor

    nightlies = rest.runs("kam_nightly")
    assert nightlies and all(r["run_type"] == "asset_triggered" for r in nightlies)
    claims = {r["dag_run_id"]: {ti["task_id"]: ti for ti in rest.task_instances("kam_nightly", r["dag_run_id"])}
              for r in nightlies}
    publishing = [run_id for run_id, tis in claims.items() if tis["publish"]["state"] == "success"]
    published_days = [rest.xcom("kam_nightly", run_id, "claim_warehouse") for run_id in publishing]
    assert [next(d for d in DAYS if f"loaded through {d}" in text) for text in published_days] == list(DAYS), \
        published_days

    writers = _writer_windows(rest, dag_ids)
    ordered = sorted(writers, key=lambda w: w["start"])
    for a, b in pairwise(ordered):
        assert a["end"] <= b["start"], f"writers overlap: {a} and {b}"
    for run_id, day in zip(publishing, DAYS, strict=True):
        tis = claims[run_id]
        night = (_when(tis["claim_warehouse"]["start_date"]), _when(tis["release_warehouse"]["end_date"]))
        foreign = [w for w in writers if w["run"] != run_id and w["start"] < night[1] and w["end"] > night[0]]
        assert foreign == [], f"a writer ran inside night {run_id}: {foreign}"
        for source in SOURCES:
            load = next(w for w in writers if w["dag"] == f"ingest_{source}" and w["run"] == f"day__{day}")
            assert load["state"] == "success" and load["end"] <= night[0], (source, day, load, night)

    log = rest.get(f"/api/v2/dags/kam_nightly/dagRuns/{publishing[-1]}/taskInstances/claim_warehouse/logs/"
                   f"{claims[publishing[-1]]['claim_warehouse']['try_number']}?full_content=true")
    events = [e.get("event") for e in log["content"] if isinstance(e, dict) and e.get("event")]
    ours = [e for e in events if "warehouse lease" in e or e.startswith("kam_nightly:")]
    assert ours and not [e for e, n in Counter(ours).items() if n > 1], events

    # task logs are the pipeline user's only (scripts/airflow-local.sh: 0o700 folders, 0o600 files)
    task_logs = list((home / "logs").rglob("*.log"))
    assert task_logs, f"no task log under {home / 'logs'}"
    loose = sorted(str(p) for p in task_logs if p.stat().st_mode & 0o077)
    loose += sorted(str(d) for d in (home / "logs").rglob("*") if d.is_dir() and d.stat().st_mode & 0o077)
    assert loose == [], f"task logs readable beyond their owner: {loose[:5]}"

    pids = {p.stem: int(p.read_text()) for p in (home / "run").glob("*.pid")}
    assert set(pids) == {"api-server", "scheduler", "dag-processor", "triggerer"}
    down = subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stderr
    still = {name: pid for name, pid in pids.items() if _alive(pid) or _alive(pid, group=True)}
    assert still == {}, f"still running after down: {still}"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the api-server port is still open"
