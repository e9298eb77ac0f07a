"""Narrow nights test what changed, full-scope builds test every row (issue 17, kam_warehouse.test_scope).

- The dbt side (dbt_project/macros/tests/test_scope.sql): with KAM_TEST_SCOPE_SINCE set, the generic
  tests of a `test_scope` staging table read the rows whose key has a raw version loaded since, and the
  per-currency reconciliation reads the lines a night can move. A defect planted among the night's keys
  fails the narrow test; one planted among older keys only fails the full-scope test (so the narrowing
  is real, and what it leaves out is what the docs say).
- The Python side (kam_warehouse.test_scope.plan): which builds narrow, from which watermark, and when
  they test every row (first build, a changed project, a selection, a full refresh, the periodic full
  pass, a gate that blocked).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import book_settings
from dbt_book import insert_rows, write_book

from kam_warehouse import dbt, test_scope
from kam_warehouse.settings import Settings

RUN = ["build", "--exclude", "resource_type:test resource_type:unit_test"]
UNIQUE_LINES = "unique_stg_billing__invoice_lines_invoice_line_id"
RECONCILIATION = "assert_revenue_reconciles_to_source_per_currency"
UNIQUE_LINE_MONTHS = "unique_combination_of_columns_int_invoice_line_revenue_invoice_line_id__revenue_month"
NIGHT_LOADED_AT = "2025-06-16 01:00:00"
SINCE = "2025-06-15 12:00:00"  # after the book's rows (2025-06-15 01:00), before the night's


def _failures(settings: Settings, test: str, since: str, built: str = "") -> int:
    """Failing rows of one dbt test run with the given scope ('' = every row; `built`: when the build that
    passed at `since` had finished, '' = not recorded)."""
    try:
        result = dbt.invoke(settings, ["test", "--select", test],
                            extra_env={test_scope.ENV_VAR: since, test_scope.BUILT_ENV_VAR: built})
    except dbt.DbtFailed as exc:
        result = exc.result
    (node,) = [n for n in result.nodes if n.resource_type == "test"]
    return int(node.failures or 0)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-made book built, then one night that loaded a new invoice with one line."""
    settings = book_settings(tmp_path_factory.mktemp("scope"))
    settings.ensure_dirs()
    write_book(settings.build_db)
    dbt.invoke(settings, RUN)
    day = dt.date(2025, 6, 16)
    with duckdb.connect(str(settings.build_db)) as con:
        insert_rows(con, "raw.billing__invoices",
                    ["invoice_id", "account_id", "invoice_date", "due_date", "currency", "status", "updated_at"],
                    [{"invoice_id": "N1", "account_id": "C1", "invoice_date": day, "due_date": day,
                      "currency": "CNY", "status": "issued", "updated_at": "2025-06-16T00:00:00"}], extract_day=day)
        insert_rows(con, "raw.billing__invoice_lines",
                    ["invoice_line_id", "invoice_id", "product_code", "quantity", "unit_price", "amount",
                     "service_start", "service_end", "updated_at"],
                    [{"invoice_line_id": "N1-1", "invoice_id": "N1", "product_code": "P", "quantity": 1,
                      "unit_price": 900.0, "amount": 900.0, "service_start": dt.date(2025, 6, 1),
                      "service_end": dt.date(2025, 8, 31), "updated_at": "2025-06-16T00:00:00"}], extract_day=day)
        for table in ("billing__invoices", "billing__invoice_lines"):
            con.execute(f"update raw.{table} set _loaded_at = ? where _extract_day = ?", [NIGHT_LOADED_AT, day])
    dbt.invoke(settings, RUN)
    return settings


def _copy(settings: Settings, dest: Path) -> Settings:
    copy = book_settings(dest)
    copy.ensure_dirs()
    shutil.copyfile(settings.build_db, copy.build_db)
    return copy


def test_the_night_passes_narrow_and_full(night: Settings) -> None:
    """Nothing planted: both scopes pass (the narrow SQL is valid and finds the night's rows clean)."""
    for test in (UNIQUE_LINES, RECONCILIATION, UNIQUE_LINE_MONTHS):
        assert _failures(night, test, SINCE) == 0
        assert _failures(night, test, "") == 0


def test_a_duplicate_among_the_nights_keys_fails_the_narrow_test(night: Settings, tmp_path: Path) -> None:
    """A duplicate of the night's line fails the narrow unique test; one of an older line only the full one."""
    settings = _copy(night, tmp_path)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("insert into staging.stg_billing__invoice_lines select * from staging.stg_billing__invoice_lines "
                    "where invoice_line_id = 'N1-1'")
    assert _failures(settings, UNIQUE_LINES, SINCE) == 1
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("insert into staging.stg_billing__invoice_lines select * from staging.stg_billing__invoice_lines "
                    "where invoice_line_id = 'A1-202405-1'")
    assert _failures(settings, UNIQUE_LINES, SINCE) == 1  # the older key is out of the night's scope
    assert _failures(settings, UNIQUE_LINES, "") == 2


def test_a_lost_line_of_the_night_fails_the_narrow_reconciliation(night: Settings, tmp_path: Path) -> None:
    """The night's line dropped from the line revenue fails the narrow reconciliation; an older lost line
    fails only the full-scope one."""
    settings = _copy(night, tmp_path)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("delete from intermediate.int_invoice_line_revenue where invoice_line_id = 'A1-202405-1'")
    assert _failures(settings, RECONCILIATION, SINCE) == 0
    assert _failures(settings, RECONCILIATION, "") == 1
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("delete from intermediate.int_invoice_line_revenue where invoice_line_id = 'N1-1'")
    assert _failures(settings, RECONCILIATION, SINCE) == 1


def test_the_line_revenue_narrows_to_the_lines_a_night_can_move(night: Settings, tmp_path: Path) -> None:
    """int_invoice_line_revenue's tests read every row of the lines a night can move (its line or invoice
    loaded since, or a late rate): a duplicate month of the night's line fails the narrow test, also when
    the duplicate is an old row; a duplicate of an older line fails only the full-scope one."""
    settings = _copy(night, tmp_path)
    table = "intermediate.int_invoice_line_revenue"
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(f"insert into {table} select * replace (cast('2000-01-01' as timestamp) as source_loaded_at) "
                    f"from {table} where invoice_line_id = 'N1-1' limit 1")
    assert _failures(settings, UNIQUE_LINE_MONTHS, SINCE) == 1
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(f"insert into {table} select * from {table} where invoice_line_id = 'A1-202405-1' limit 1")
    assert _failures(settings, UNIQUE_LINE_MONTHS, SINCE) == 1  # the older line is out of the night's scope
    assert _failures(settings, UNIQUE_LINE_MONTHS, "") == 2


ORPHAN_CONTACTS = "relationships_stg_crm__contacts_account_id__account_id__ref_stg_crm__accounts_"


def test_a_staging_view_narrows_to_the_nights_keys(night: Settings, tmp_path: Path) -> None:
    """The staging views (each the latest version of its raw rows) narrow like the tables: a contact of
    an unknown account loaded in the night fails the narrow relationships test; one loaded before the
    tested watermark is out of the night's scope and fails only the full-scope test. (A view reads raw
    when tested, so a row planted in raw is seen without a build.)"""
    settings = _copy(night, tmp_path)
    columns = ["contact_id", "account_id", "full_name", "email", "phone", "role", "is_primary", "updated_at"]
    day = dt.date(2025, 6, 16)
    row = {"account_id": "NOBODY", "full_name": "x", "email": "x@example.com", "phone": "1", "role": "buyer",
           "is_primary": False}
    with duckdb.connect(str(settings.build_db)) as con:
        insert_rows(con, "raw.crm__contacts", columns,
                    [{**row, "contact_id": "K-OLD", "updated_at": "2025-06-14T00:00:00"}], extract_day=day)
    assert _failures(settings, ORPHAN_CONTACTS, SINCE) == 0  # loaded with the book, before the watermark
    assert _failures(settings, ORPHAN_CONTACTS, "") == 1
    with duckdb.connect(str(settings.build_db)) as con:
        insert_rows(con, "raw.crm__contacts", columns,
                    [{**row, "contact_id": "K-NEW", "updated_at": "2025-06-16T00:00:00"}], extract_day=day)
        con.execute("update raw.crm__contacts set _loaded_at = ? where contact_id = 'K-NEW'", [NIGHT_LOADED_AT])
    assert _failures(settings, ORPHAN_CONTACTS, SINCE) == 1
    assert _failures(settings, ORPHAN_CONTACTS, "") == 2


UNIQUE_RANKS = "unique_combination_of_columns_int_concentration_ranked_revenue_month__level__time_window__entity_id"
UNIQUE_ENTITIES = ("unique_combination_of_columns_mart_finance_concentration_entities_revenue_month__level__"
                   "time_window__entity_id")


def test_the_concentration_ranks_narrow_to_the_partitions_the_night_ranked(night: Settings, tmp_path: Path) -> None:
    """int_concentration_ranked and the marts listing its rows narrow by partition (meta.test_scope.
    ranked_partitions): a duplicate entity planted in a partition the night ranked fails the narrow tests
    of the ranks and of the entity list; one planted in a partition kept from the first build (ranked
    before the watermark) fails only the full-scope tests. The night here: one account's revenue of the
    latest month changes, so that month's account partition is ranked again and the others are kept."""
    settings = _copy(night, tmp_path)
    with duckdb.connect(str(settings.build_db)) as con:
        (first_ranked,) = con.execute("select distinct ranked_at from intermediate.int_concentration_ranked").fetchone()
        account, month = con.execute("select account_id, revenue_month from marts.fct_account_revenue_monthly "
                                     "where revenue > 0 order by revenue_month desc, account_id limit 1").fetchone()
        con.execute("update marts.fct_account_revenue_monthly set revenue = revenue + 1 "
                    "where account_id = ? and revenue_month = ?", [account, month])
    dbt.invoke(settings, ["run", "--select", "int_concentration_ranked"])
    with duckdb.connect(str(settings.build_db)) as con:
        assert con.execute("select count(distinct ranked_at) from intermediate.int_concentration_ranked").fetchone() == (2,)
        kept, moved = (con.execute(
            "select revenue_month, level, time_window from intermediate.int_concentration_ranked "
            f"where ranked_at {op} ? order by revenue_month limit 1", [first_ranked]).fetchone()
            for op in ("=", ">"))
    # the watermark is older than both builds (the book's fake load times); the build that passed there
    # finished when the first ranks were written: the night's ranks are newer
    built = first_ranked.isoformat(sep=" ")
    assert _failures(settings, UNIQUE_RANKS, SINCE, built) == 0
    assert _failures(settings, UNIQUE_ENTITIES, SINCE, built) == 0

    def plant(partition: tuple) -> None:
        with duckdb.connect(str(settings.build_db)) as con:
            con.execute("insert into intermediate.int_concentration_ranked select * from "
                        "intermediate.int_concentration_ranked where (revenue_month, level, time_window) = "
                        "(?, ?, ?) limit 1", list(partition))

    plant(kept)
    assert _failures(settings, UNIQUE_RANKS, SINCE, built) == 0 and _failures(settings, UNIQUE_ENTITIES, SINCE, built) == 0
    assert _failures(settings, UNIQUE_RANKS, SINCE) == 1  # without the build's end: from the (older) watermark
    assert _failures(settings, UNIQUE_RANKS, "") == 1 and _failures(settings, UNIQUE_ENTITIES, "") == 1
    plant(moved)
    assert _failures(settings, UNIQUE_RANKS, SINCE, built) == 1 and _failures(settings, UNIQUE_ENTITIES, SINCE, built) == 1
    assert _failures(settings, UNIQUE_RANKS, "") == 2


def test_a_scope_that_is_not_a_timestamp_is_refused(night: Settings) -> None:
    with pytest.raises(dbt.DbtFailed, match="KAM_TEST_SCOPE_SINCE must be a timestamp"):
        dbt.invoke(night, ["test", "--select", UNIQUE_LINES], extra_env={test_scope.ENV_VAR: "yesterday; drop"})


# ---------------------------------------------------------------- which builds narrow
def _warehouse(tmp_path: Path, *loaded_at: str, full_tests_every_days: int = 7) -> tuple[Settings, Path]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "pipeline.yml").write_text(f"build:\n  full_tests_every_days: {full_tests_every_days}\n")
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh", config_dir=config)
    settings.ensure_dirs()
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw.load_batches (batch_id varchar, loaded_at timestamp)")
        for n, value in enumerate(loaded_at):
            con.execute("insert into raw.load_batches values (?, ?)", [f"b{n}", value])
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "models" / "m.sql").write_text("select 1 as x\n")
    (project / "dbt_project.yml").write_text("name: p\n")
    return settings, project


def _night_passes(settings: Settings, project: Path, *, now: dt.datetime) -> test_scope.TestScope:
    """One build (plan, record) whose gate passes (promote)."""
    scope, record = test_scope.plan(settings, project_dir=project, now=now)
    test_scope.write_pending(settings, record)
    test_scope.promote(settings)
    return scope


def test_the_first_build_tests_every_row_and_the_next_narrows_from_its_watermark(tmp_path: Path) -> None:
    settings, project = _warehouse(tmp_path, "2026-01-01 01:00:00")
    now = dt.datetime(2026, 1, 1, 2)
    first = _night_passes(settings, project, now=now)
    assert not first.narrow and "no build has passed" in first.reason
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("insert into raw.load_batches values ('b9', '2026-01-02 01:00:00')")
    second, record = test_scope.plan(settings, project_dir=project, now=now + dt.timedelta(days=1))
    assert second.since == dt.datetime(2026, 1, 1, 1)  # what the first build had seen
    # and when its dbt build had finished (stamped by write_pending), the bound of build-stamped rows
    built = json.loads(test_scope.tested_path(settings).read_text())["built_at"]
    assert second.built_since == dt.datetime.fromisoformat(built)
    assert second.environment()[test_scope.BUILT_ENV_VAR] == built
    assert record.watermark == "2026-01-02 01:00:00" and record.narrow_since == "2026-01-01 01:00:00"
    assert json.loads(test_scope.tested_path(settings).read_text())["watermark"] == "2026-01-01 01:00:00"
    # the gate narrows its own checks to what the build's tests were narrowed to (none on the first build)
    test_scope.write_pending(settings, record)
    assert test_scope.build_narrow_since(settings) == dt.datetime(2026, 1, 1, 1)
    test_scope.pending_path(settings).unlink()
    assert test_scope.build_narrow_since(settings) is None


def test_a_blocked_gate_promotes_nothing(tmp_path: Path) -> None:
    """The gate blocked the second build: the third still narrows from the first build's watermark."""
    settings, project = _warehouse(tmp_path, "2026-01-01 01:00:00")
    now = dt.datetime(2026, 1, 1, 2)
    _night_passes(settings, project, now=now)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("insert into raw.load_batches values ('b9', '2026-01-02 01:00:00')")
    _, record = test_scope.plan(settings, project_dir=project, now=now + dt.timedelta(days=1))
    test_scope.write_pending(settings, record)  # built; the gate blocked: no promote
    third, _ = test_scope.plan(settings, project_dir=project, now=now + dt.timedelta(days=2))
    assert third.since == dt.datetime(2026, 1, 1, 1)


@pytest.mark.parametrize("case", ["project changed", "selection", "full refresh", "periodic", "disabled"])
def test_builds_that_test_every_row(tmp_path: Path, case: str) -> None:
    settings, project = _warehouse(tmp_path, "2026-01-01 01:00:00",
                                   full_tests_every_days=0 if case == "disabled" else 7)
    now = dt.datetime(2026, 1, 1, 2)
    _night_passes(settings, project, now=now)
    later = now + dt.timedelta(days=7 if case == "periodic" else 1)
    if case == "project changed":
        (project / "models" / "m.sql").write_text("select 2 as x\n")
    scope, _ = test_scope.plan(settings, project_dir=project, now=later, selected=case == "selection",
                               full_refresh=case == "full refresh")
    assert not scope.narrow, scope
    expected = {"project changed": "dbt project changed", "selection": "selection", "full refresh": "full refresh",
                "periodic": "full_tests_every_days", "disabled": "full_tests_every_days is 0"}[case]
    assert expected in scope.reason


def test_an_unreadable_record_means_every_row(tmp_path: Path) -> None:
    settings, project = _warehouse(tmp_path, "2026-01-01 01:00:00")
    test_scope.tested_path(settings).parent.mkdir(parents=True, exist_ok=True)
    test_scope.tested_path(settings).write_text("{not json")
    scope, _ = test_scope.plan(settings, project_dir=project)
    assert not scope.narrow
