"""Month-end close and the finance report on PostgreSQL give what they give on DuckDB: the same finance
project (real dbt, finance models over stub marts) built on both engines from the same inputs, closed,
published, a late invoice loaded and published again; the report's data (figures, entities,
restatements, moved accounts) and every workbook cell but the build footer are equal across engines."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kam_warehouse.core.warehouse import WarehouseTarget, connect
from kam_warehouse.serving import close_month, publish
from kam_warehouse.serving.checksums import checksums
from kam_warehouse.serving.report import concentration_report
from kam_warehouse.serving.report.data import ReportData, load
from kam_warehouse.settings import Settings
from tests.dbt.engine_copy import postgres_type

sys.path.insert(0, str(Path(__file__).parent))  # one finance_project module (and dbt build) per session
import finance_project as fp

NOV = date(2025, 11, 1)
LATE = tuple((a, n, 9_000_000.0 if a == "A3" else r) for a, n, r in fp.ACCOUNTS)  # Acme becomes the top account
DATABASE = "kam_finance_engines"


@dataclasses.dataclass(frozen=True)
class Engines:
    duckdb: Settings
    postgres: Settings
    reports: dict[tuple[str, str], ReportData]  # (engine, stage) -> what the report showed
    out: Path


def copy_schemas(duck_db: Path, target: WarehouseTarget, schemas: tuple[str, ...]) -> None:
    """Copy tables of `schemas` from a DuckDB file into a PostgreSQL database: created with the mapped
    types the first time, emptied and reloaded later (dbt's views over them stay)."""
    with connect(duck_db, read_only=True) as src, connect(target) as dst:
        for schema in schemas:
            dst.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            for table, kind in src.relations(schema):
                if kind != "table":
                    continue
                columns = src.columns(schema, table)
                if dst.has_relation(schema, table):
                    dst.execute(f'TRUNCATE {schema}."{table}"')
                else:
                    ddl = ", ".join(f'"{c}" {postgres_type(t, table=table, column=c)}' for c, t in columns)
                    dst.execute(f'CREATE TABLE {schema}."{table}" ({ddl})')
                data = src.fetch_arrow(f'SELECT * FROM {schema}."{table}"')
                dst.bulk_load(f'{schema}."{table}"', data)


def dbt_build_postgres(project: Path, settings: Settings) -> None:
    from dbt.cli.main import dbtRunner

    with pytest.MonkeyPatch.context() as env:
        for name, value in settings.build.dbt_environment().items():
            env.setenv(name, value)
        result = dbtRunner().invoke(["build", "--project-dir", str(project), "--profiles-dir", str(project),
                                     "--target-path", str(project / "target-pg"), "--log-path",
                                     str(project / "logs-pg"), "--quiet"])
    failed = [f"{r.node.name}: {r.message}" for r in getattr(result.result, "results", []) or []
              if str(r.status) in ("error", "fail")]
    assert result.success, result.exception or failed


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, postgres_server) -> Engines:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("finance_engines")
    config = root / "config"
    config.mkdir()
    (config / "pipeline.yml").write_text("publish:\n  keep_builds: 3\nclose:\n  day_of_month: 5\n")
    for database in (DATABASE, DATABASE + "_build"):
        postgres_server.psql(f'drop database if exists "{database}" with (force)')
        postgres_server.psql(f"create database \"{database}\" template template0 lc_collate 'C' lc_ctype 'C'")
    url = f"postgresql://{postgres_server.user}@{postgres_server.host}:{postgres_server.port}/{DATABASE}"
    duck = Settings(landing_dir=root / "landing", warehouse_dir=root / "duckdb", config_dir=config)
    pg = Settings(landing_dir=root / "landing", warehouse_dir=root / "postgres", config_dir=config, warehouse_url=url)
    duck.ensure_dirs()
    pg.ensure_dirs()
    fp.built_copy(duck.build_db, tmp_path_factory)
    fp.write_inputs(duck.build_db, month=NOV, as_of=date(2025, 12, 3))
    copy_schemas(duck.build_db, pg.build, ("raw", "test_input"))
    pg_project = root / "pg_project"
    fp.make_project(pg_project)
    dbt_build_postgres(pg_project / "dbt_project", pg)

    reports: dict[tuple[str, str], ReportData] = {}
    pulled = pd.Timestamp("2026-01-01").to_pydatetime()
    for stage in ("open", "closed", "late"):
        if stage == "late":
            fp.late_invoice(duck.build_db, loaded_on=date(2025, 12, 6))
            fp.write_inputs(duck.build_db, month=NOV, as_of=date(2025, 12, 6), accounts=LATE)
            copy_schemas(duck.build_db, pg.build, ("raw", "test_input"))
        for engine, s in (("duckdb", duck), ("postgresql", pg)):
            if stage == "closed":
                close_month(s, NOV, run_id="close__1", closed_by="@finance-bot")
            publish(s, run_id=f"publish__{stage}")
            reports[(engine, stage)] = load(s.serving, NOV, pulled_at=pulled)
    return Engines(duckdb=duck, postgres=pg, reports=reports, out=root / "reports")


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    """Order-free and dtype-free comparison: rows sorted by their text, numbers as floats."""
    if df.empty:
        return df
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype(float)
    return out.sort_values(list(out.columns), key=lambda s: s.astype(str)).reset_index(drop=True)


@pytest.mark.parametrize("stage", ["open", "closed", "late"])
def test_report_data_equal_across_engines(engines: Engines, stage: str) -> None:
    """Figures (month, MoM, YoY months), entities (top lists, Lorenz, Pareto), restatements and moved
    accounts are equal on both engines at every stage (floats to 1e-12)."""
    d, p = engines.reports[("duckdb", stage)], engines.reports[("postgresql", stage)]
    assert (p.closed, p.as_of, p.partial) == (d.closed, d.as_of, d.partial)
    if d.close is not None:
        assert p.close is not None
        assert (p.close.version, p.close.as_of, p.close.closed_by) == (d.close.version, d.close.as_of,
                                                                       d.close.closed_by)
    for part in ("figures", "entities", "restatements", "moved"):
        a, b = _frame(getattr(d, part)), _frame(getattr(p, part))
        assert list(a.columns) == list(b.columns), part
        assert len(a) == len(b), part
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12, atol=1e-9, obj=f"{stage} {part}")
    if stage == "late":
        assert not d.restatements.empty and d.top("account").iloc[0].entity_name == "华为技术有限公司"


def test_workbooks_equal_across_engines(engines: Engines) -> None:
    """The closed report after the late invoice: every cell of every sheet equal across engines, but
    the footer naming the build (its run id and source differ by engine only in the warehouse named)."""
    from openpyxl import load_workbook

    books = {}
    for engine, s in (("duckdb", engines.duckdb), ("postgresql", engines.postgres)):
        path = concentration_report(s.serving, NOV, engines.out / engine, {"xlsx"})["xlsx"]
        books[engine] = load_workbook(path)
    a, b = books["duckdb"], books["postgresql"]
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        def values(ws) -> list[list[object]]:  # type: ignore[no-untyped-def]
            return [[round(v, 9) if isinstance(v, float) else v for v in (c.value for c in row)
                     if not (isinstance(v, str) and v.startswith(("Pulled at", "Build ")))] for row in ws.iter_rows()]
        assert values(a[name]) == values(b[name]), name


def test_close_state_and_serving_checksums(engines: Engines) -> None:
    """The close froze the same rows on both engines (finance.*), and two checksums of the PostgreSQL
    serving marts agree with each other (the checksum SQL runs on both engines)."""
    frozen = {}
    for engine, s in (("duckdb", engines.duckdb), ("postgresql", engines.postgres)):
        with connect(s.build, read_only=True) as con:
            frozen[engine] = con.execute(
                "SELECT closed_month, figure_month, figure_set, level, time_window, segment, metric, "
                "close_version, is_current, as_of_date, value FROM finance.concentration_closed "
                "ORDER BY 1, 2, 3, 4, 5, 6, 7").fetchall()
    assert len(frozen["duckdb"]) > 100
    assert [r[:-1] for r in frozen["postgresql"]] == [r[:-1] for r in frozen["duckdb"]]
    assert [r[-1] for r in frozen["postgresql"]] == pytest.approx([r[-1] for r in frozen["duckdb"]], rel=1e-12)
    first = checksums(engines.postgres.serving, schemas=("marts",))
    assert first == checksums(engines.postgres.serving, schemas=("marts",))
    assert "marts.mart_finance_concentration_closed" in first and "marts._publish_info" not in first
    duck = checksums(engines.duckdb.serving, schemas=("marts",))
    assert set(duck) == set(first)

