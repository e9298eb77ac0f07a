"""`kam tiers` CLI: override is recorded and listed; explain resolves a member to its group."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from kam_warehouse.tiers.cli import app
from kam_warehouse.tiers.state import ensure_tier_state


def test_override_list_and_explain(tmp_path: Path) -> None:
    """An override on a member account lands on its group; explain prints the group and the history."""
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        ensure_tier_state(con)
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.dim_account AS SELECT 'A2' AS account_id, "
                    "'A1' AS group_id")
        con.execute("INSERT INTO tiers.account_tier_history VALUES ('A1', 'key', DATE '2025-01-01', NULL, 55, "
                    "'first classification: score 55.0 -> key', 'r', FALSE)")
    runner = CliRunner()
    wh = ["--warehouse", str(tmp_path)]
    res = runner.invoke(app, ["override", "A2", "--tier", "strategic", "--reason", "board", "--set-by", "ann",
                              "--expires-on", "2030-01-01", *wh])
    assert res.exit_code == 0, res.output
    listed = runner.invoke(app, ["overrides", *wh])
    assert "A1" in listed.output and "strategic" in listed.output
    explained = runner.invoke(app, ["explain", "A2", *wh])
    assert explained.exit_code == 0, explained.output
    assert "member of group A1" in explained.output and "current tier key" in explained.output
    bad = runner.invoke(app, ["override", "A2", "--tier", "gold", "--reason", "x", "--set-by", "y",
                              "--expires-on", "2030-01-01", *wh])
    assert bad.exit_code != 0
