"""The warehouse interface (kam_warehouse.core.warehouse) behaves the same on DuckDB and PostgreSQL:
`?` placeholders, autocommit outside a transaction, rollback inside one, bulk loads that keep NULL
apart from the empty string and keep exact decimals, the catalog helpers and comments. And the one
switch, KAM_WAREHOUSE_URL, picks the engine and refuses a password in the URL."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from kam_warehouse.core.errors import ConfigError
from kam_warehouse.core.warehouse import Warehouse, WarehouseError, connect, locate
from kam_warehouse.core.warehouse.sql import qmark_to_format


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse(request, tmp_path: Path) -> Warehouse:
    if request.param == "duckdb":
        return locate("", tmp_path).build
    server = request.getfixturevalue("postgres_server")
    server.psql('drop database if exists "kam_iface" with (force)')
    server.psql('drop database if exists "kam_iface_build" with (force)')
    location = locate(f"postgresql://{server.user}@{server.host}:{server.port}/kam_iface", tmp_path)
    assert location.build.create() and not location.build.create()
    return location.build


def _table(con) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute("CREATE TABLE ops.t (id INTEGER, name VARCHAR, amount DECIMAL(38, 6), day DATE, "
                "at_ts TIMESTAMP, ratio DOUBLE PRECISION)")


def test_statements_placeholders_and_transactions(warehouse: Warehouse) -> None:
    """`?` binds on both engines (a literal '?' or '%' is left alone); a rolled-back transaction leaves
    nothing, a committed one and autocommitted statements persist."""
    with connect(warehouse) as con:
        _table(con)
        con.execute("INSERT INTO ops.t (id, name) VALUES (?, ?)", [1, "50% off?"])
        with pytest.raises(RuntimeError), con.transaction():
            con.execute("INSERT INTO ops.t (id, name) VALUES (?, ?)", [2, "rolled back"])
            raise RuntimeError("boom")
        with con.transaction():
            con.execute("INSERT INTO ops.t (id, name) VALUES (?, '100%?')", [3])
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT id, name FROM ops.t ORDER BY id").fetchall() == [(1, "50% off?"), (3, "100%?")]
        assert con.scalar("SELECT count(*) FROM ops.t WHERE name LIKE '%?'") == 2


def test_bulk_load_keeps_nulls_empty_strings_and_exact_money(warehouse: Warehouse) -> None:
    data = pa.table({
        "id": pa.array([1, 2, 3], pa.int32()),
        "name": pa.array(["", None, 'a "quoted", line\nbreak'], pa.string()),
        "amount": pa.array([Decimal("12345678901234567890.123456"), None, Decimal("-0.000001")],
                           pa.decimal128(38, 6)),
        "day": pa.array([date(2026, 1, 31), None, date(2024, 2, 29)], pa.date32()),
        "at_ts": pa.array([datetime(2026, 1, 2, 3, 4, 5, 678901), None, datetime(2026, 12, 31)], pa.timestamp("us")),
    })
    with connect(warehouse) as con:
        _table(con)
        with con.transaction():
            assert con.bulk_load("ops.t", data) == 3
        rows = con.execute("SELECT id, name, amount, day, at_ts, ratio FROM ops.t ORDER BY id").fetchall()
    assert rows == [
        (1, "", Decimal("12345678901234567890.123456"), date(2026, 1, 31), datetime(2026, 1, 2, 3, 4, 5, 678901), None),
        (2, None, None, None, None, None),
        (3, 'a "quoted", line\nbreak', Decimal("-0.000001"), date(2024, 2, 29), datetime(2026, 12, 31), None),
    ]


def test_text_holds_nul_says_whether_a_nul_character_can_be_stored(warehouse: Warehouse) -> None:
    """`Connection.text_holds_nul`: True where a text value with a NUL character loads (DuckDB), False
    where the engine refuses it (PostgreSQL's text): ingest quarantines such values for the latter."""
    data = pa.table({"name": pa.array(["a\x00b"], pa.string())})
    with connect(warehouse) as con:
        _table(con)
        if con.text_holds_nul:
            con.bulk_load("ops.t", data)
            assert con.scalar("SELECT name FROM ops.t") == "a\x00b"
        else:
            with pytest.raises(con.errors), con.transaction():
                con.bulk_load("ops.t", data)
            assert con.scalar("SELECT count(*) FROM ops.t") == 0


def test_fetch_text_moves_rows_between_engines_exactly(warehouse: Warehouse, tmp_path: Path) -> None:
    """`fetch_text`: every column as text, NULL apart from '', quotes and line breaks kept, `?` bound; the
    text bulk-loaded into a typed table on the other engine casts back to the same values."""
    rows = [
        (1, "", Decimal("12345678901234567890.123456"), date(2026, 1, 31), datetime(2026, 1, 2, 3, 4, 5, 678901)),
        (2, None, None, None, None),
        (3, 'a "quoted", line\nbreak', Decimal("-0.000001"), date(2024, 2, 29), datetime(2026, 12, 31)),
    ]
    with connect(warehouse) as con:
        _table(con)
        con.executemany("INSERT INTO ops.t (id, name, amount, day, at_ts) VALUES (?, ?, ?, ?, ?)", rows)
        text = con.fetch_text("SELECT id, name, amount, day, at_ts FROM ops.t WHERE id <> ? ORDER BY id", [9])
        empty = con.fetch_text("SELECT id, name FROM ops.t WHERE id = ?", [9])
    assert all(t == pa.string() for t in text.schema.types) and text.column("name").to_pylist() == [
        "", None, 'a "quoted", line\nbreak']
    assert empty.num_rows == 0 and empty.column_names == ["id", "name"]
    with connect(tmp_path / "other.duckdb") as other:
        _table(other)
        other.bulk_load("ops.t", text)
        assert other.execute("SELECT id, name, amount, day, at_ts FROM ops.t ORDER BY id").fetchall() == rows


def test_catalog_helpers_and_comments(warehouse: Warehouse) -> None:
    with connect(warehouse) as con:
        _table(con)
        con.execute("CREATE VIEW ops.v AS SELECT id FROM ops.t")
        con.execute("COMMENT ON TABLE ops.t IS 'what t holds'")
        con.execute("COMMENT ON COLUMN ops.t.name IS 'a name'")
        assert con.relations("ops") == [("t", "table"), ("v", "view")]
        assert con.has_relation("ops", "v") and not con.has_relation("ops", "nope")
        assert [c for c, _ in con.columns("ops", "t")] == ["id", "name", "amount", "day", "at_ts", "ratio"]
        assert con.columns("ops", "nope") == []
        assert con.comments("ops", "t") == ("what t holds", {"name": "a name"})
        seconds = con.scalar(f"SELECT {con.epoch_seconds('TIMESTAMP ' + chr(39) + '2026-01-01 00:01:30' + chr(39) + ' - TIMESTAMP ' + chr(39) + '2026-01-01 00:00:00' + chr(39))}")
        assert float(seconds) == 90.0


def test_engine_errors_are_catchable_without_naming_the_engine(warehouse: Warehouse) -> None:
    with connect(warehouse) as con, pytest.raises(con.errors):
        con.execute("SELECT * FROM no_such_schema.no_such_table")


def test_number_text_formats_alike_on_both_engines(warehouse: Warehouse) -> None:
    """`number_text` renders as printf's %.Nf (ties of the binary value to even, as Python) and %g."""
    values = [62.25, 8.0, 0.04, -1.25, 1234.56, 100.0, 62.5, None]
    with connect(warehouse) as con:
        con.execute("CREATE TABLE n (i INTEGER, x DOUBLE PRECISION)")
        con.executemany("INSERT INTO n VALUES (?, ?)", list(enumerate(values)))
        rows = con.execute(f"SELECT {con.number_text('x', 1)}, {con.number_text('x', 0)}, {con.number_text('x')} "
                           "FROM n ORDER BY i").fetchall()
    expected = [(None, None, None) if v is None else (f"{v:.1f}", f"{v:.0f}", f"{v:g}") for v in values]
    assert rows == expected


def test_a_writer_elsewhere_is_warehouse_in_use(tmp_path: Path) -> None:
    """An embedded file another process holds for writing: WarehouseInUse naming the file and holder."""
    import subprocess
    import sys

    from kam_warehouse.core.warehouse import WarehouseInUse

    target = locate("", tmp_path).build
    code = f"import duckdb, sys\ncon = duckdb.connect({str(tmp_path / 'build.duckdb')!r})\nprint('ready', flush=True)\nsys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseInUse) as err:
            target.connect(read_only=True)
        assert err.value.path == tmp_path / "build.duckdb" and err.value.holder_pid == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_sqlalchemy_connect_args(tmp_path: Path) -> None:
    assert locate("", tmp_path).build.sqlalchemy_connect_args(read_only=True) == {"read_only": True}
    pg = locate("postgresql://kam@db:5432/kam", tmp_path).build
    assert "default_transaction_read_only=on" in pg.sqlalchemy_connect_args(read_only=True)["options"]
    assert "read_only" not in pg.sqlalchemy_connect_args(read_only=False)["options"]


def test_the_url_is_the_one_switch(tmp_path: Path) -> None:
    embedded = locate("", tmp_path)
    assert embedded.engine == "duckdb" and embedded.build.describe() == str(tmp_path / "build.duckdb")
    assert locate("duckdb:", tmp_path).serving.describe() == str(tmp_path / "serving.duckdb")
    pg = locate("postgresql://kam@db.internal:6432/kam", tmp_path)
    assert (pg.engine, pg.serving.describe(), pg.build.describe()) == (
        "postgresql", "postgresql://kam@db.internal:6432/kam", "postgresql://kam@db.internal:6432/kam_build")
    assert pg.build.dbt_environment()["KAM_PG_DATABASE"] == "kam_build"
    with pytest.raises(ConfigError, match="PGPASSWORD") as err:
        locate("postgresql://kam:s3cret@db/kam", tmp_path)
    assert "s3cret" not in str(err.value)
    with pytest.raises(ConfigError, match="unknown engine"):
        locate("mysql://kam@db/kam", tmp_path)


def test_unreachable_server_names_the_warehouse(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = locate(f"postgresql://kam@127.0.0.1:{port}/kam", tmp_path).serving
    with pytest.raises(WarehouseError, match=f"postgresql://kam@127.0.0.1:{port}/kam"):
        target.connect()


def test_placeholder_translation_leaves_quoted_text_alone() -> None:
    assert qmark_to_format("SELECT '?' AS q, \"a?\" FROM t WHERE x = ? -- y?\nAND z LIKE 'a%'") == (
        "SELECT '?' AS q, \"a?\" FROM t WHERE x = %s -- y?\nAND z LIKE 'a%%'")
    assert qmark_to_format("SELECT 'it''s ?' , ?") == "SELECT 'it''s ?' , %s"


def test_compact_reports_sizes_and_keeps_the_data(warehouse: Warehouse) -> None:
    """Maintenance compaction (DuckDB FORCE CHECKPOINT, PostgreSQL VACUUM ANALYZE) keeps every row."""
    with connect(warehouse) as con:
        _table(con)
        con.execute("INSERT INTO ops.t (id) VALUES (1), (2)")
    before, after = warehouse.compact()
    assert before > 0 and after > 0
    with connect(warehouse, read_only=True) as con:
        assert con.scalar("SELECT count(*) FROM ops.t") == 2


def test_transient_errors_are_the_ones_worth_a_retry(tmp_path: Path) -> None:
    """A server out of reach is worth a retry (a restart, a failover); a failed statement is not."""
    import socket

    from kam_warehouse.core.warehouse import transient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WarehouseError) as unreachable:
        locate(f"postgresql://kam@127.0.0.1:{port}/kam", tmp_path).serving.connect()
    assert transient(unreachable.value)
    with connect(tmp_path / "x.duckdb") as con, pytest.raises(con.errors) as failed:
        con.execute("SELECT * FROM nope")
    assert not transient(failed.value) and not transient(ValueError("x"))
