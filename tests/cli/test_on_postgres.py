"""`kam` on a PostgreSQL warehouse (KAM_WAREHOUSE_URL) fails as it fails on DuckDB: one paragraph that
names the warehouse (never a password), exit 1, no traceback; and the last-resort paragraph catches the
interface's errors, whatever the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kam_warehouse.cli import app, failure_paragraph

#: the commands of the gate/tier/run-log areas that read the build or serving warehouse
READERS = (["tiers", "explain", "ACC00001"], ["tiers", "overrides"], ["tiers", "simulate"], ["summary"])


def _kam(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def on_postgres(pg_warehouse_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = pg_warehouse_url()
    monkeypatch.setenv("KAM_WAREHOUSE_URL", url)
    monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    return url


def test_empty_postgres_warehouse_is_one_paragraph(on_postgres: str, postgres_server) -> None:
    """An empty build database: each reader says what is missing (`overrides`: there are none); no build
    database at all: it names it."""
    for args in READERS:
        code, output = _kam(args)
        if args == ["tiers", "overrides"]:
            assert (code, output) == (0, "no overrides\n")
        else:
            assert code == 1 and output.startswith("kam: "), (args, output)
    assert "does not exist in this warehouse" in _kam(["tiers", "simulate"])[1]
    assert f"nothing has been published to the serving warehouse {on_postgres} yet" in _kam(["summary"])[1]
    postgres_server.psql(f'drop database "{on_postgres.rsplit("/", 1)[1]}_build" with (force)')
    code, output = _kam(["tiers", "overrides"])
    assert code == 1 and f"no build warehouse at {on_postgres}_build" in output


def test_unreachable_server_is_one_paragraph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KAM_WAREHOUSE_URL", f"postgresql://kam@127.0.0.1:{port}/kam")
    monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    for args in READERS:
        code, output = _kam(args)
        assert code == 1 and f"postgresql://kam@127.0.0.1:{port}/kam" in output, (args, output)


def test_failure_paragraph_catches_the_interfaces_errors(tmp_path: Path) -> None:
    """An engine's failed statement is one sentence on either engine; a warehouse held by another process
    (the interface's WarehouseInUse, or DuckDB's own lock error from code that opened a file itself) is
    the busy paragraph."""
    import duckdb
    import psycopg2

    from kam_warehouse.core.warehouse import WarehouseInUse

    assert failure_paragraph(psycopg2.errors.UndefinedTable('relation "x" does not exist')) == (
        'the warehouse could not complete the command: relation "x" does not exist')
    assert failure_paragraph(duckdb.CatalogException("Table x does not exist")).startswith(
        "the warehouse could not complete the command: ")
    held = WarehouseInUse("in use", path=tmp_path / "build.duckdb", holder_pid=1, holder="python3")
    assert failure_paragraph(held).startswith(f"the warehouse {tmp_path / 'build.duckdb'} is busy: process 1 (")
    raw = duckdb.IOException(f'IO Error: Could not set lock on file "{tmp_path / "build.duckdb"}": Conflicting '
                             "lock is held in /usr/bin/python3 (PID 4242) by user root.")
    assert "is busy: process 4242" in failure_paragraph(raw)
