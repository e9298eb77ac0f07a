"""`kam publish [--rollback]`, `kam close`, `kam report concentration` as a person runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from typer.testing import CliRunner

from kam_warehouse.serving.cli import register
from kam_warehouse.settings import Settings

if TYPE_CHECKING:
    from conftest import StampedBuilds


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """kam (test mount)."""

    register(app)
    return app


def test_publish_and_rollback_commands(settings: Settings, builds: StampedBuilds, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`kam publish` publishes the build; `kam publish --rollback` serves the previous build again."""
    monkeypatch.setenv("KAM_CONFIG_DIR", str(settings.config_dir))
    runner, app, wh = CliRunner(), _app(), str(settings.warehouse_dir)
    builds.write("first")
    assert runner.invoke(app, ["publish", "--warehouse", wh]).exit_code == 0
    builds.write("second")
    assert runner.invoke(app, ["publish", "--warehouse", wh]).exit_code == 0
    assert builds.served_run_id() == "second"
    result = runner.invoke(app, ["publish", "--rollback", "--warehouse", wh])
    assert result.exit_code == 0, result.output
    assert "rolled back to build" in result.output
    assert builds.served_run_id() == "first"


def test_errors_exit_non_zero_with_a_message(settings: Settings) -> None:
    """A bad --month is a usage error; a report without a serving warehouse exits 1 naming the file."""
    runner, app, wh = CliRunner(), _app(), str(settings.warehouse_dir)
    assert runner.invoke(app, ["close", "--month", "2025-13", "--warehouse", wh]).exit_code == 2
    result = runner.invoke(app, ["report", "concentration", "--month", "2025-11", "--warehouse", wh])
    assert result.exit_code == 1
    assert "serving.duckdb" in result.output


def test_publish_rollback_and_grant_reader_on_postgres(settings: Settings, pg_warehouse_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With KAM_WAREHOUSE_URL=postgresql://...: `kam publish` swaps the serving schemas, `--rollback`
    swaps back, `kam warehouse grant-reader ROLE --create` grants the served schemas; on the embedded
    warehouse grant-reader explains that readers get the serving group instead."""
    from kam_warehouse.core.warehouse import connect
    from tests.serving.stamped import PostgresStampedBuilds

    url = pg_warehouse_url()
    monkeypatch.setenv("KAM_CONFIG_DIR", str(settings.config_dir))
    monkeypatch.setenv("KAM_WAREHOUSE_URL", url)
    pg = Settings(landing_dir=settings.landing_dir, warehouse_dir=settings.warehouse_dir,
                  config_dir=settings.config_dir, warehouse_url=url)
    builds = PostgresStampedBuilds(pg)
    runner, app, wh = CliRunner(), _app(), str(settings.warehouse_dir)
    for run in ("first", "second"):
        builds.write(run)
        result = runner.invoke(app, ["publish", "--warehouse", wh])
        assert result.exit_code == 0, result.output
    assert "(schemas marts, ops)" in result.output
    assert builds.served_run_id() == "second"
    result = runner.invoke(app, ["publish", "--rollback", "--warehouse", wh])
    assert result.exit_code == 0, result.output
    assert builds.served_run_id() == "first"
    result = runner.invoke(app, ["warehouse", "grant-reader", "kam_cli_reader", "--create", "--warehouse", wh])
    assert result.exit_code == 0, result.output
    assert "kam_cli_reader reads" in result.output and "SELECT on marts, " in result.output
    with connect(pg.serving, read_only=True) as con:
        assert con.scalar("SELECT has_table_privilege('kam_cli_reader', 'marts.build_stamp', 'SELECT')")
        assert not con.scalar("SELECT has_table_privilege('kam_cli_reader', 'marts.build_stamp', 'INSERT')")
    assert runner.invoke(app, ["warehouse", "grant-reader", "no_such_role", "--warehouse", wh]).exit_code == 1
    monkeypatch.setenv("KAM_WAREHOUSE_URL", "")
    result = runner.invoke(app, ["warehouse", "grant-reader", "x", "--warehouse", wh])
    assert result.exit_code == 1 and "KAM_SERVING_GROUP" in result.output
