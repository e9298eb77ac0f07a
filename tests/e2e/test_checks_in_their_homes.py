"""Issue 14 end to end, on a real night (generated extracts -> load -> dbt build -> gate -> tiers -> publish):

- the gate's one verdict holds both homes of a check: every dbt test of the build and every GX check is a
  row of ops.dq_results with its home, and a failing dbt test blocks the run at the gate;
- the published marts describe themselves: every table, view and column of `marts` and `ops` in
  serving.duckdb carries a comment (dbt persist_docs, Python DDL comments, kept by publish).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kam_warehouse.errors import GateBlocked
from kam_warehouse.pipeline import RunContext, run_nightly, step_quality_gate
from kam_warehouse.settings import Settings
from sample_extracts import GeneratorOptions, generate

# the suite runs with --import-mode=importlib: make this folder's helper module importable
sys.path.insert(0, str(Path(__file__).parent))

from gate_scenarios import clone_night, night_settings, run_rows

pytestmark = pytest.mark.e2e

BOOK = {"accounts": 30, "months": 14, "seed": 14}


@pytest.fixture(scope="module")
def clean_night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"KAM_ENV": "test", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DO_NOT_TRACK": "1",
                            "GX_ANALYTICS_ENABLED": "false"}.items():
            mp.setenv(name, value)
        settings = night_settings(tmp_path_factory.mktemp("homes"))
        generate(GeneratorOptions(out=settings.landing_dir, days=1, **BOOK))
        ctx = RunContext.new(settings, triggered_by="e2e")
        run_nightly(ctx)
        yield settings


def _missing_comments(serving: Path) -> list[str]:
    with duckdb.connect(str(serving), read_only=True) as con:
        relations = con.execute(
            "SELECT schema_name || '.' || table_name, coalesce(comment, '') FROM duckdb_tables() "
            "WHERE schema_name IN ('marts', 'ops') ORDER BY 1").fetchall()
        columns = con.execute(
            "SELECT schema_name || '.' || table_name || '.' || column_name, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE schema_name IN ('marts', 'ops') ORDER BY 1").fetchall()
    assert len(relations) >= 15 and len(columns) >= 200, "the serving warehouse is missing tables"
    return [name for name, comment in relations + columns if not comment.strip()]


def test_every_published_table_and_column_has_a_comment(clean_night: Settings) -> None:
    """BI tools (Metabase, Superset, DBeaver) show a description for every table and column of marts and ops
    in serving.duckdb: yml descriptions reach the database (persist_docs), Python-created tables comment
    themselves, and publish's copy keeps both."""
    missing = _missing_comments(clean_night.serving_db)
    assert not missing, f"{len(missing)} table(s)/column(s) without a comment in serving.duckdb: {missing}"


def test_the_verdict_records_dbt_tests_and_gx_checks_with_their_home(clean_night: Settings) -> None:
    """The clean night's gate read the real dbt build's run_results.json: every data test and unit test of the
    build is a row of ops.dq_results with home dbt and the model it tests, beside the GX checks (home gx)."""
    with duckdb.connect(str(clean_night.serving_db), read_only=True) as con:
        homes = dict(con.execute("SELECT home, count(*) FROM ops.dq_results GROUP BY home").fetchall())
        failed = con.execute("SELECT expectation FROM ops.dq_results WHERE NOT success AND severity = 'block'"
                             ).fetchall()
        reconciled = con.execute("SELECT relation FROM ops.dq_results WHERE expectation LIKE 'dbt.assert_monthly_"
                                 "revenue_reconciles%'").fetchall()
        unit = con.execute("SELECT count(*) FROM ops.dq_results WHERE home = 'dbt' AND observed_value = 'pass' "
                           "AND expectation LIKE 'dbt.movement_classification%'").fetchone()
    assert homes.get("dbt", 0) >= 150 and homes.get("gx", 0) == 5, homes
    assert not failed
    assert reconciled == [("marts.fct_account_revenue_monthly",)]
    assert unit == (1,)


def test_a_later_dbt_command_does_not_replace_the_builds_results(clean_night: Settings, tmp_path: Path) -> None:
    """`kam docs` (dbt docs generate) or `kam dbt ...` after the night overwrite dbt's target/run_results.json
    with results that hold no tests; the gate still judges the night's build (kept in dbt/last_build/), so a
    later `kam close` re-gate passes instead of blocking on "not a build"."""
    night = clone_night(clean_night.landing_dir.parent, tmp_path / "night")
    target = night.warehouse_dir / "dbt" / "target"
    (target / "run_results.json").write_text(
        '{"metadata": {"generated_at": "2099-01-01T00:00:00Z"}, "args": {"which": "generate"}, "results": []}')
    outcome = step_quality_gate(RunContext.new(night, triggered_by="e2e"))
    gate = outcome.detail["gate"]
    assert gate.passed, gate.summary()
    assert sum(1 for r in gate.results if r.home == "dbt") >= 150


def test_a_failing_dbt_test_blocks_the_night_at_the_gate(clean_night: Settings, tmp_path: Path) -> None:
    """A second current tier for a group (tier state edited outside the tier step) fails the dbt grain test of
    account_tier_history (the invariant the old GX check one_current_tier held): the dbt step records its
    failure but lets the gate judge, the gate blocks naming the dbt test and its model, ops.dq_results records
    it with home dbt, tiers and publish are held back and serving.duckdb is untouched."""
    night = clone_night(clean_night.landing_dir.parent, tmp_path / "night")
    with duckdb.connect(str(night.build_db)) as con:
        con.execute("INSERT INTO tiers.account_tier_history SELECT account_id, 'other', valid_from + 1, NULL, 0.0, "
                    "'edited by hand', 'manual', FALSE FROM tiers.account_tier_history WHERE valid_to IS NULL LIMIT 1")
    served_before = night.serving_db.read_bytes()
    ctx = RunContext.new(night, triggered_by="e2e")

    with pytest.raises(GateBlocked) as raised:
        run_nightly(ctx)

    failed = raised.value.failed_checks
    assert all(line.startswith("dbt.") for line in failed), failed
    assert any(line.startswith("dbt.unique_account_tier_history_account_id dbt test on marts.account_tier_history "
                               "returned fail: 1 failing row(s)") for line in failed), failed
    with duckdb.connect(str(night.build_db), read_only=True) as con:
        rows = con.execute("SELECT expectation, home, relation, severity FROM ops.dq_results WHERE run_id = ? "
                           "AND NOT success", [ctx.run_id]).fetchall()
    assert ("dbt.unique_account_tier_history_account_id", "dbt", "marts.account_tier_history", "block") in rows
    assert {home for _, home, _, _ in rows} == {"dbt"}
    runs = run_rows(night, ctx.run_id)
    assert runs["dbt_build"][0] == "failed" and runs["quality_gate"][0] == "failed"
    assert runs["tiers"][0] == runs["publish"][0] == "held_back"
    assert night.serving_db.read_bytes() == served_before
