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
