"""The nightly DAGs on a PostgreSQL warehouse (KAM_WAREHOUSE_URL the only switch), through dag.test():
ingest_crm, ingest_billing and kam_nightly publish the day into the serving database's marts, and those
marts equal a `kam run` of the same extracts on the embedded DuckDB. Protects issue 16's "through the
nightly DAG"."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import duckdb
import psycopg2
import pytest

from tests.dbt.mart_compare import compare_schema

pytestmark = pytest.mark.e2e

DAY1 = date(2024, 2, 1)
DATABASE = "kam_dags"
#: columns naming the run or the moment that wrote a row
RUN_IDENTITY = frozenset({"run_id", "published_at", "source_file"})


def _at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def nights(airflow_db, dagbag, tmp_path_factory, postgres_server):
    """The same generated extracts through the DAGs on PostgreSQL and through run_nightly on DuckDB."""
    from kam_warehouse.pipeline import RunContext, run_nightly
    from kam_warehouse.settings import Settings
    from sample_extracts import GeneratorOptions, generate

    root = tmp_path_factory.mktemp("pgdags")
    generate(GeneratorOptions(out=root / "landing", accounts=12, months=13, days=2, seed=11))
    for folder in (root / "landing").glob("*/*"):  # the DAGs run for DAY1: the same days on both engines
        if folder.is_dir() and folder.name > DAY1.isoformat():
            shutil.rmtree(folder)
    url = postgres_server.create_warehouse(DATABASE)
    env = {"KAM_LANDING_DIR": str(root / "landing"), "KAM_WAREHOUSE_DIR": str(root / "wh-pg"), "KAM_WAREHOUSE_URL": url}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        states = {}
        for dag_id, logical in (("ingest_crm", _at(DAY1)), ("ingest_billing", _at(DAY1)), ("kam_nightly", _at(DAY1, 1))):
            run = dagbag.dags[dag_id].test(logical_date=logical)
            states[dag_id] = (str(run.state), {ti.task_id: str(ti.state) for ti in run.get_task_instances()})
    duck = Settings(landing_dir=root / "landing", warehouse_dir=root / "wh-duck",
                    config_dir=Settings.from_env().config_dir)
    run_nightly(RunContext.new(duck))
    return states, duck.serving_db, postgres_server


def test_dags_on_postgres_publish_what_kam_run_publishes_on_duckdb(nights) -> None:
    states, serving_duckdb, server = nights
    for dag_id, (state, tis) in states.items():
        assert state == "success", (dag_id, tis)
    assert states["kam_nightly"][1]["publish"] == "success"
    duck = duckdb.connect(str(serving_duckdb), read_only=True)
    pg = psycopg2.connect(f"host={server.host} port={server.port} user={server.user} dbname={DATABASE}")
    try:
        problems, _ = compare_schema(duck, pg, "marts", skip_columns=RUN_IDENTITY)
        assert not problems, "\n".join(problems[:40])
        with pg.cursor() as cur:
            cur.execute("select step, status from ops.pipeline_runs where triggered_by = 'airflow' and step <> 'load' "
                        "order by started_at")
            assert [tuple(r) for r in cur.fetchall()][-4:] == [
                ("dbt_build", "success"), ("quality_gate", "success"), ("tiers", "success"), ("publish", "success")]
    finally:
        pg.close()
        duck.close()
