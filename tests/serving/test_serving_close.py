"""Month-end close: frozen figures never move; later loads show up as restatements with a cause."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.serving import close_month, due_close_month
from kam_warehouse.serving.errors import CloseError
from kam_warehouse.serving.finance_state import ensure_finance_schema
from kam_warehouse.settings import Settings

_spec = importlib.util.spec_from_file_location("finance_project", Path(__file__).with_name("finance_project.py"))
assert _spec and _spec.loader
fp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fp)

NOV = date(2025, 11, 1)


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _late_invoice(db: Path, *, loaded_on: date) -> None:
    """An invoice for November arriving in the extract of `loaded_on` (after the close)."""
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO raw.billing__invoices (invoice_id, account_id, invoice_date, due_date, currency, "
                    "status, updated_at, _extract_day) VALUES ('LATE1', 'A1', '2025-11-20', '2025-12-20', 'CNY', "
                    "'issued', '2025-12-06 08:00', ?)", [loaded_on])
        con.execute("INSERT INTO raw.billing__invoice_lines (invoice_line_id, invoice_id, product_code, quantity, "
                    "unit_price, amount, service_start, service_end, updated_at, _extract_day) VALUES ('LATE1-1', "
                    "'LATE1', 'P', 1, 500, 500, '2025-11-01', '2025-11-30', '2025-12-06 08:00', ?)", [loaded_on])


@pytest.fixture
def project(tmp_path: Path, settings: Settings) -> Path:
    settings.ensure_dirs()
    fp.write_inputs(settings.build_db, month=NOV, total_revenue=1000.0, as_of=date(2025, 12, 3))
    project = fp.make_project(tmp_path)
    fp.dbt_build(project, settings.build_db)
    return project


def test_close_freezes_figures_and_late_invoice_becomes_a_restatement(settings: Settings, project: Path) -> None:
    """Closing November freezes every level/window + segment figure; after a late invoice changes the
    mart, the closed figures are identical and the restatement shows closed, current, delta and cause."""
    result = close_month(settings, NOV, run_id="close-1")
    assert (result.status, result.close_version, result.figures) == ("closed", 1, 5 * len(fp.METRICS))
    closed_sql = ("SELECT figure_set, level, time_window, segment, metric, value "
                  "FROM marts.mart_finance_concentration_closed ORDER BY ALL")
    fp.dbt_build(project, settings.build_db)
    frozen = _rows(settings.build_db, closed_sql)
    assert ("overall", "group", "t12m", "all", "total_revenue", 1000.0) in frozen

    _late_invoice(settings.build_db, loaded_on=date(2025, 12, 6))
    fp.write_inputs(settings.build_db, month=NOV, total_revenue=1500.0, as_of=date(2025, 12, 6))
    fp.dbt_build(project, settings.build_db)

    assert _rows(settings.build_db, closed_sql) == frozen
    restated = _rows(settings.build_db, "SELECT figure_set, level, time_window, metric, closed_value, current_value, "
                     "delta, cause FROM marts.mart_finance_concentration_restatements ORDER BY ALL")
    assert len(restated) == 5  # total_revenue of every overall level/window and the segment
    assert restated[0][:7] == ("overall", "account", "month", "total_revenue", 1000.0, 1500.0, 500.0)
    assert all(r[7] == "late invoice loaded after close (1 lines)" for r in restated)


def test_closing_again_is_a_recorded_no_op_and_force_recloses(settings: Settings, project: Path) -> None:
    """A second close changes nothing and says so; --force makes version 2 current, keeps version 1,
    and the close log records all three attempts."""
    close_month(settings, NOV, run_id="c1")
    fp.write_inputs(settings.build_db, month=NOV, total_revenue=1200.0, as_of=date(2025, 12, 9))
    fp.dbt_build(project, settings.build_db)
    again = close_month(settings, NOV, run_id="c2")
    assert again.status == "already_closed" and "nothing changed" in again.message
    assert _rows(settings.build_db, "SELECT DISTINCT value FROM finance.concentration_closed "
                 "WHERE metric = 'total_revenue'") == [(1000.0,)]
    forced = close_month(settings, NOV, run_id="c3", force=True, reason="audit adjustment")
    assert (forced.status, forced.close_version) == ("reclosed", 2)
    assert _rows(settings.build_db, "SELECT close_version, is_current, min(value), max(value) FROM "
                 "finance.concentration_closed WHERE metric = 'total_revenue' GROUP BY ALL ORDER BY 1") == [
        (1, False, 1000.0, 1000.0), (2, True, 1200.0, 1200.0)]
    assert _rows(settings.build_db, "SELECT action, run_id, reason FROM finance.close_log ORDER BY logged_at, action") == [
        ("closed", "c1", None), ("already_closed", "c2", None), ("reclosed", "c3", "audit adjustment")]


def test_an_incomplete_or_empty_month_cannot_be_closed(settings: Settings, project: Path) -> None:
    """A month whose data is not loaded through its last day, or that has no figures, is refused."""
    with pytest.raises(CloseError, match="through 2025-12-31"):
        close_month(settings, date(2025, 12, 1), run_id="x")
    with pytest.raises(CloseError, match="no figures"):
        close_month(settings, date(2025, 10, 1), run_id="x")


def test_dbt_pre_hook_and_python_create_the_same_finance_tables(settings: Settings, project: Path,
                                                                tmp_path: Path) -> None:
    """The finance DDL lives twice (dbt pre-hook for empty warehouses, Python for kam close): identical."""
    fresh = tmp_path / "fresh.duckdb"
    with duckdb.connect(str(fresh)) as con:
        ensure_finance_schema(con)
    sql = ("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
           "WHERE table_schema = 'finance' ORDER BY ALL")
    assert _rows(settings.build_db, sql) == _rows(fresh, sql)


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 1, 4), None), (date(2026, 1, 5), date(2025, 12, 1)), (date(2026, 1, 20), date(2025, 12, 1)),
    (date(2026, 3, 5), date(2026, 2, 1)),
])
def test_due_close_month_is_the_previous_month_from_the_close_day(today: date, expected: date | None) -> None:
    """finance_monthly closes the previous month from close.day_of_month on (earlier: nothing is due)."""
    assert due_close_month(today, {"close": {"day_of_month": 5}}) == expected


def test_close_result_message_names_the_month() -> None:
    """The CLI prints CloseResult.message; it says which month and version was frozen."""
    from kam_warehouse.serving.close import CloseResult

    r = CloseResult(NOV, "closed", 1, 45, date(2025, 12, 3), datetime(2025, 12, 5, 6, 0))
    assert r.message.startswith("2025-11 closed: 45 figures frozen as version 1")
