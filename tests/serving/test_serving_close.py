"""Month-end close: the whole report is frozen per close version, later loads show up only as
restatements (long and wide), re-closing is an explicit recorded version, and nothing is frozen or
published past a blocking quality gate. Real dbt (finance models over stub marts), real DuckDB."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.core import state_tables
from kam_warehouse.errors import GateBlocked
from kam_warehouse.serving import close_and_publish, close_month, due_close_month, publish
from kam_warehouse.serving.errors import CloseError
from kam_warehouse.serving.finance_state import ensure_finance_schema
from kam_warehouse.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings
from kam_warehouse.tiers.state import ensure_tier_state

sys.path.insert(0, str(Path(__file__).parent))  # one finance_project module (and dbt build) per session
import finance_project as fp

NOV = date(2025, 11, 1)
#: Acme's late invoice makes it the month's top account (it was third)
LATE = tuple((a, n, 9_000_000.0 if a == "A3" else r) for a, n, r in fp.ACCOUNTS)


def _rows(db: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def project(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test's own copy of the session's built finance warehouse (November's stub marts)."""
    settings.ensure_dirs()
    return fp.built_copy(settings.build_db, tmp_path_factory)


def test_close_freezes_figures_entities_and_comparisons_and_late_data_only_restates(
        settings: Settings, project: Path) -> None:
    """Closing November freezes its figures (long and in the mart's wide shape), the comparison months
    and every account with its name and rank; after a late invoice makes Acme the top account, all of
    that is unchanged while the restatements (long and wide) show closed, current, delta and cause."""
    result = close_month(settings, NOV, run_id="close-1", closed_by="finance-bot")
    assert (result.status, result.close_version, result.figures, result.entities) == ("closed", 1, 72, 20)
    frozen_sql = {
        "long": "SELECT figure_set, level, time_window, segment, metric, value FROM marts.mart_finance_concentration_closed "
                "ORDER BY ALL",
        "wide": "SELECT * FROM marts.mart_finance_concentration_monthly_closed ORDER BY ALL",
        "figures": "SELECT * FROM marts.mart_finance_concentration_closed_figures ORDER BY ALL",
        "entities": "SELECT * FROM marts.mart_finance_concentration_closed_entities ORDER BY ALL",
        "versions": "SELECT * FROM marts.mart_finance_close_versions ORDER BY ALL",
    }
    frozen = {k: _rows(settings.build_db, sql) for k, sql in frozen_sql.items()}
    assert {r[0] for r in _rows(settings.build_db, "SELECT DISTINCT figure_month FROM "
                                "marts.mart_finance_concentration_closed_figures")} == {
        NOV, date(2025, 10, 1), date(2024, 11, 1)}
    top = ("SELECT entity_id, entity_name FROM {} WHERE level = 'account' AND time_window = 'month' "
           "AND rank_desc = 1")
    assert _rows(settings.build_db, top.format("marts.mart_finance_concentration_closed_entities")) == [
        ("A1", "华为技术有限公司")]

    fp.late_invoice(settings.build_db, loaded_on=date(2025, 12, 6))
    fp.write_inputs(settings.build_db, month=NOV, as_of=date(2025, 12, 6), accounts=LATE)
    fp.dbt_build(project, settings.build_db)

    assert {k: _rows(settings.build_db, sql) for k, sql in frozen_sql.items()} == frozen
    assert _rows(settings.build_db, top.format("marts.mart_finance_concentration_entities") +
                 " AND revenue_month = ?", [NOV]) == [("A3", "Acme GmbH")]
    restated = _rows(settings.build_db, "SELECT metric, closed_value, current_value, delta, cause FROM "
                     "marts.mart_finance_concentration_restatements WHERE figure_set = 'overall' AND level = 'account' "
                     "AND time_window = 'month' ORDER BY metric")
    by_metric = {r[0]: r for r in restated}
    assert by_metric["total_revenue"][1:4] == pytest.approx((9_000_000.35, 17_100_000.35, 8_100_000.0))
    assert "max_share" in by_metric and "active_count" not in by_metric  # same 5 accounts, a new leader
    assert all(r[4] == "late invoice loaded after close (1 lines)" for r in restated)
    wide = _rows(settings.build_db, "SELECT total_revenue, total_revenue_delta, active_count_delta, is_restated, "
                 "close_version FROM marts.mart_finance_concentration_monthly_restated WHERE level = 'account' "
                 "AND \"window\" = 'month'")
    assert wide == [(pytest.approx(17_100_000.35), pytest.approx(8_100_000.0), 0.0, True, 1)]


def test_closed_marts_have_the_main_marts_shape_and_names(settings: Settings, project: Path) -> None:
    """BI compares closed and current figures without pivoting or renaming: the wide closed marts start
    with exactly the columns of mart_revenue_concentration_monthly / _by_segment, in the same order."""
    close_month(settings, NOV, run_id="c1")

    def columns(table: str) -> list[str]:
        return [r[0] for r in _rows(settings.build_db, "SELECT column_name FROM information_schema.columns WHERE "
                                    "table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position", [table])]

    for main, closed in (("mart_revenue_concentration_monthly", "mart_finance_concentration_monthly_closed"),
                         ("mart_revenue_concentration_by_segment", "mart_finance_concentration_by_segment_closed"),
                         ("mart_revenue_concentration_monthly", "mart_finance_concentration_monthly_restated")):
        assert columns(closed)[:len(columns(main))] == columns(main), closed
    same = _rows(settings.build_db, """
        SELECT count(*) FROM marts.mart_finance_concentration_monthly_closed c
        JOIN marts.mart_revenue_concentration_monthly m USING (revenue_month, level, "window")
        WHERE c.total_revenue = m.total_revenue AND c.gini = m.gini AND c.active_count = m.active_count""")
    assert same == [(4,)]


def test_closing_again_is_a_recorded_no_op_and_reclosing_needs_a_reason(settings: Settings, project: Path) -> None:
    """A second close changes nothing and says so; --force without a reason is refused; with one it makes
    version 2 current while version 1 (figures and entities) stays queryable; the log has every attempt."""
    close_month(settings, NOV, run_id="c1", closed_by="alice")
    fp.write_inputs(settings.build_db, month=NOV, as_of=date(2025, 12, 9), accounts=LATE)
    again = close_month(settings, NOV, run_id="c2")
    assert again.status == "already_closed" and "nothing changed" in again.message
    with pytest.raises(CloseError, match="needs a reason"):
        close_month(settings, NOV, run_id="c3", force=True)
    forced = close_month(settings, NOV, run_id="c4", force=True, reason="audit adjustment", closed_by="bob")
    assert (forced.status, forced.close_version) == ("reclosed", 2)
    assert _rows(settings.build_db, "SELECT close_version, is_current, closed_by, close_reason, figures, entities, "
                 "as_of_date FROM marts.mart_finance_close_versions ORDER BY 1") == [
        (1, False, "alice", None, 72, 20, date(2025, 12, 3)), (2, True, "bob", "audit adjustment", 72, 20,
                                                                date(2025, 12, 9))]
    assert _rows(settings.build_db, "SELECT close_version, is_current, total_revenue FROM "
                 "marts.mart_finance_concentration_monthly_closed WHERE level = 'account' AND \"window\" = 'month' "
                 "ORDER BY 1") == [(1, False, pytest.approx(9_000_000.35)), (2, True, pytest.approx(17_100_000.35))]
    assert _rows(settings.build_db, "SELECT close_version, entity_id FROM marts.mart_finance_concentration_closed_entities "
                 "WHERE rank_desc = 1 AND level = 'account' AND time_window = 'month' ORDER BY 1") == [
        (1, "A1"), (2, "A3")]
    assert _rows(settings.build_db, "SELECT action, run_id, reason FROM finance.close_log ORDER BY logged_at, action") == [
        ("closed", "c1", None), ("already_closed", "c2", None), ("reclosed", "c4", "audit adjustment")]


def test_an_incomplete_or_empty_month_cannot_be_closed(settings: Settings, project: Path) -> None:
    """A month whose data is not loaded through its last day, or that has no figures, is refused."""
    with pytest.raises(CloseError, match="through 2025-12-31"):
        close_month(settings, date(2025, 12, 1), run_id="x")
    with pytest.raises(CloseError, match="no figures"):
        close_month(settings, date(2025, 9, 1), run_id="x")


def test_close_and_publish_freezes_nothing_past_a_blocking_gate(tmp_path: Path, project: Path,
                                                                 settings: Settings) -> None:
    """`kam close` runs the real quality gate first. Here its blocking dbt.results check fails (this
    warehouse has no dbt run results of the real project), so nothing is frozen and the served file is
    unchanged. The GX checks are switched off in this copy of the config only to keep the test fast."""
    config = tmp_path / "real_config"
    shutil.copytree(REPO_ROOT / "config", config)
    quality = (config / "quality.yml").read_text()
    head, _, checks = quality.partition("  raw.freshness:")
    (config / "quality.yml").write_text(head + re.sub(r"severity: (block|warn)", "severity: 'off'",
                                                      "  raw.freshness:" + checks))
    gated = Settings(landing_dir=settings.landing_dir, warehouse_dir=settings.warehouse_dir, config_dir=config)
    publish(gated, run_id="before")
    served = gated.serving_db.read_bytes()
    with pytest.raises(GateBlocked):
        close_and_publish(gated, NOV, run_id="close__gated")
    assert _rows(gated.build_db, "SELECT count(*) FROM finance.concentration_closed") == [(0,)]
    assert gated.serving_db.read_bytes() == served
    assert ("close__gated", "publish", "held_back") in _rows(
        gated.build_db, "SELECT run_id, step, status FROM ops.pipeline_runs")


def test_dbt_hooks_and_python_create_the_same_state_tables(settings: Settings, project: Path,
                                                           tmp_path: Path) -> None:
    """The state tables' one definition (dbt_project.yml var kam_state_tables) is rendered twice, by the
    dbt hooks (empty warehouses) and by Python (tier step, kam close): the same columns, types and
    nullability, column order included; and it upgrades a warehouse closed by the earlier release (rows
    without figure_month / closed_by)."""
    fresh = tmp_path / "fresh.duckdb"
    with duckdb.connect(str(fresh)) as con:
        ensure_finance_schema(con)
        ensure_tier_state(con)
    sql = ("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
           "WHERE table_schema = 'finance' ORDER BY ALL")
    assert _rows(settings.build_db, sql) == _rows(fresh, sql)
    in_order = ("SELECT table_schema, table_name, ordinal_position, column_name, data_type, is_nullable "
                "FROM information_schema.columns WHERE table_schema IN ('finance', 'tiers') "
                "AND table_name IN ({}) ORDER BY ALL")
    dbt_tables = ", ".join(f"'{t}'" for s in ("finance", "tiers") for t in state_tables.definition()[s])
    built = _rows(settings.build_db, in_order.format(dbt_tables))
    assert built == _rows(fresh, in_order.format(dbt_tables))
    assert {r[1] for r in built} == {"account_tier_history", "tier_overrides", "concentration_closed",
                                     "concentration_closed_entities", "close_log"}

    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute("CREATE SCHEMA finance")
        con.execute("CREATE TABLE finance.concentration_closed (closed_month date not null, figure_set varchar not "
                    "null, level varchar not null, time_window varchar not null, segment varchar not null, metric "
                    "varchar not null, value double, close_version integer not null, is_current boolean not null, "
                    "as_of_date date not null, closed_at timestamp not null, closed_by_run_id varchar not null, "
                    "close_reason varchar)")
        con.execute("INSERT INTO finance.concentration_closed VALUES ('2025-10-01', 'overall', 'account', 'month', "
                    "'all', 'hhi', 1.0, 1, true, '2025-11-03', '2025-11-05', 'old', NULL)")
        ensure_finance_schema(con)
    assert _rows(old, sql) == _rows(fresh, sql)
    assert _rows(old, "SELECT figure_month, closed_by, value FROM finance.concentration_closed") == [(None, None, 1.0)]


def test_every_state_table_statement_has_its_dbt_hook() -> None:
    """dbt runs one statement per hook (Spark's rule), by index: a column marked `upgrade` or a table
    added to var kam_state_tables adds a statement, which must get its hook or dbt never creates it."""
    project = (DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")
    closed_model = (DBT_PROJECT_DIR / "models/marts/finance/mart_finance_concentration_closed.sql").read_text(
        encoding="utf-8")
    tier_hooks = [int(i) for i in re.findall(r"ensure_state_tables\((\d+)\)", project)]
    finance_hooks = [int(i) for i in re.findall(r"ensure_finance_tables\((\d+)\)", closed_model)]
    assert tier_hooks == list(range(len(state_tables.statements("tiers"))))
    assert finance_hooks == list(range(len(state_tables.statements("finance"))))


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 1, 4), None), (date(2026, 1, 5), date(2025, 12, 1)), (date(2026, 1, 20), date(2025, 12, 1)),
    (date(2026, 3, 5), date(2026, 2, 1)),
])
def test_due_close_month_is_the_previous_month_from_the_close_day(today: date, expected: date | None) -> None:
    """finance_monthly closes the previous month from close.day_of_month on (earlier: nothing is due)."""
    assert due_close_month(today, 5) == expected


def test_close_result_message_names_the_month() -> None:
    """The CLI prints CloseResult.message; it says which month and version was frozen."""
    from kam_warehouse.serving.close import CloseResult

    r = CloseResult(NOV, "closed", 1, 45, date(2025, 12, 3), datetime(2025, 12, 5, 6, 0))
    assert r.message.startswith("2025-11 closed: 45 figures frozen as version 1")


def _kam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kam_warehouse", *args], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "KAM_CONFIG_DIR": str(REPO_ROOT / "config")})


def _write_late_invoice(landing: Path, day: date, month: date, account_id: str, amount: float) -> None:
    """A complete billing extract day holding one invoice for `month` (delivered after the close)."""
    folder = landing / "billing" / day.isoformat()
    folder.mkdir(parents=True)
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1).toordinal() - 1
    (folder / "invoices.csv").write_text(
        "invoice_id,account_id,invoice_date,due_date,currency,status,updated_at\n"
        f"INVLATE0001,{account_id},{month:%Y-%m}-20,{day.isoformat()},CNY,issued,{day.isoformat()}T08:00:00\n")
    (folder / "invoice_lines.csv").write_text(
        "invoice_line_id,invoice_id,product_code,description,quantity,unit_price,amount,service_start,service_end,"
        f"updated_at\nILLATE0001,INVLATE0001,SUB-STD,late invoice,1.00,{amount:.2f},{amount:.2f},{month.isoformat()},"
        f"{date.fromordinal(end).isoformat()},{day.isoformat()}T08:00:00\n")
    (folder / "_SUCCESS").touch()


@pytest.mark.e2e
def test_kam_close_then_report_is_closed_and_a_late_invoice_only_restates(tmp_path: Path) -> None:
    """Done-when, as finance runs it: `kam run`, `kam close`, `kam report` (no run in between) gives a
    closed report; a late invoice that makes another account the month's top account is loaded by the
    next `kam run`; pulling the report again gives identical sheets except Restatements, which shows
    the invoice as the delta of the month's total revenue with its cause."""
    from openpyxl import load_workbook

    landing, wh = tmp_path / "landing", tmp_path / "warehouse"
    gen = _kam("demo-data", "--out", str(landing), "--accounts", "25", "--months", "13", "--seed", "3", "--days", "1")
    assert gen.returncode == 0, gen.stderr
    run = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert run.returncode == 0, run.stdout + run.stderr
    serving = wh / "serving.duckdb"
    (as_of,) = _rows(serving, "SELECT as_of_date FROM marts._publish_info")[0]
    month = date(as_of.year, as_of.month, 1).toordinal() - 1
    month = date.fromordinal(month).replace(day=1)
    label = f"{month:%Y-%m}"

    closed = _kam("close", "--month", label, "--warehouse", str(wh))
    assert closed.returncode == 0, closed.stdout + closed.stderr
    assert "frozen as version 1" in closed.stdout and "Published build" in closed.stdout
    assert _rows(serving, "SELECT step, status FROM ops.pipeline_runs WHERE starts_with(run_id, 'close__') "
                 "ORDER BY started_at") == [("quality_gate", "success"), ("close", "success"), ("publish", "success")]
    first = _kam("report", "concentration", "--month", label, "--warehouse", str(wh), "--format", "xlsx",
                 "--out", str(tmp_path / "r1"))
    assert first.returncode == 0, first.stdout + first.stderr
    before = load_workbook(tmp_path / "r1" / f"kam_concentration_{label}.xlsx")
    assert before["Summary"]["A2"].value.startswith("Status: closed v1 at ")

    ranking = _rows(serving, "SELECT entity_id, revenue FROM marts.mart_finance_concentration_entities WHERE "
                    "level = 'account' AND time_window = 'month' AND revenue_month = ? ORDER BY rank_desc", [month])
    top_id, top_revenue = ranking[0]
    last_id = ranking[-1][0]
    amount = round(2 * top_revenue, 2)
    _write_late_invoice(landing, as_of + timedelta(days=1), month, last_id, amount)
    again = _kam("run", "--landing", str(landing), "--warehouse", str(wh))
    assert again.returncode == 0, again.stdout + again.stderr
    assert _rows(serving, "SELECT entity_id FROM marts.mart_finance_concentration_entities WHERE level = 'account' "
                 "AND time_window = 'month' AND revenue_month = ? AND rank_desc = 1", [month]) == [(last_id,)]

    second = _kam("report", "concentration", "--month", label, "--warehouse", str(wh), "--format", "xlsx",
                  "--out", str(tmp_path / "r2"))
    assert second.returncode == 0, second.stdout + second.stderr
    after = load_workbook(tmp_path / "r2" / f"kam_concentration_{label}.xlsx")

    def values(ws) -> list[list[object]]:  # type: ignore[no-untyped-def]
        return [[v for v in (c.value for c in row) if not (isinstance(v, str) and v.startswith("Pulled at"))]
                for row in ws.iter_rows()]

    assert before.sheetnames == after.sheetnames
    for name in before.sheetnames:
        if name != "Restatements":
            assert values(before[name]) == values(after[name]), name
    restated = [r for r in values(after["Restatements"])
                if r[:4] == ["Account", "Month", "all", "Total revenue"]]
    assert len(restated) == 1
    assert restated[0][6] == pytest.approx(amount, abs=0.01)
    assert restated[0][8].startswith("late invoice loaded after close (1 lines)")
    moved = [r for r in values(after["Restatements"]) if r[:2] == ["Account", last_id]]
    assert len(moved) == 1 and moved[0][4] == 1  # named, now ranked first
    assert top_id != last_id
