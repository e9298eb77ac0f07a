"""The gate's expectation (expectations.gx_rows) gives GX's UnexpectedRowsExpectation result with one query
per check instead of two, and the gate runs each check's query once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from expectations import gx_duckdb_compat
from expectations.checks import ALL_CHECKS
from expectations.gate import run_gate

QUERIES = {
    "none": "SELECT x FROM {batch} WHERE x < 0",
    "few": "SELECT x, 'x=' || CAST(x AS VARCHAR) AS detail FROM {batch} WHERE x > 990",
    "over_the_200_kept": "SELECT x FROM {batch} WHERE x >= 250",
    "broken": "SELECT no_such_column FROM {batch}",
}


@pytest.fixture
def batch(tmp_path: Path) -> Any:
    import great_expectations as gx

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(1000)")
    gx_duckdb_compat.apply()
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="d", connection_string=f"duckdb:///{db}")
    return source.add_table_asset(name="t", table_name="t").add_batch_definition_whole_table("all").get_batch()


def _statements() -> tuple[list[str], Any]:
    import sqlalchemy as sa

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    return seen, record


def _result(batch: Any, expectation: Any) -> tuple[bool, dict[str, Any], bool]:
    import sqlalchemy as sa

    seen, record = _statements()
    try:
        r = batch.validate(expectation, result_format={"result_format": "COMPLETE", "partial_unexpected_count": 20})
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    info = r.exception_info or {}
    raised = any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
    return bool(r.success), {"result": r.result, "statements": len(seen)}, raised


@pytest.mark.parametrize("case", sorted(QUERIES))
def test_same_result_as_gx_with_one_query_instead_of_two(case: str, batch: Any) -> None:
    """Success, observed_value (the exact count, also beyond the 200 rows GX keeps), the rows kept and a
    failing query's exception are GX's own; GX's expectation runs two queries, this one runs one."""
    import great_expectations as gx

    from expectations.gx_rows import KamUnexpectedRowsExpectation

    query = QUERIES[case]
    gx_success, gx_out, gx_raised = _result(batch, gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query=query))
    success, out, raised = _result(batch, KamUnexpectedRowsExpectation(unexpected_rows_query=query))
    assert (success, raised) == (gx_success, gx_raised)
    assert out["result"] == gx_out["result"]
    if case == "over_the_200_kept":
        assert out["result"]["observed_value"] == 750 and len(out["result"]["details"]["unexpected_rows"]) == 200
    if case != "broken":  # a failing query is retried by GX: fewer statements, not necessarily half
        assert (gx_out["statements"], out["statements"]) == (2, 1)
    else:
        assert out["statements"] < gx_out["statements"]


def test_gx_still_evaluates_unexpected_rows_with_the_two_metrics_replaced() -> None:
    """Fails when GX changes what its UnexpectedRowsExpectation reads (then revisit expectations/gx_rows.py)."""
    from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation

    from expectations.gx_rows import GX_METRICS, KamUnexpectedRowsExpectation

    assert tuple(UnexpectedRowsExpectation.metric_dependencies) == GX_METRICS
    assert issubclass(KamUnexpectedRowsExpectation, UnexpectedRowsExpectation)


def test_the_gate_runs_each_check_query_once(good_db: Path, config_dir: Path, tmp_path: Path,
                                             dbt_target: Path) -> None:
    """Each enabled GX check is one statement of the gate's GX run (the reconciliation scans every raw and
    staging table: issue 17)."""
    import sqlalchemy as sa

    seen, record = _statements()
    try:
        result = run_gate(good_db, run_id="once", config_dir=config_dir, data_docs_dir=tmp_path / "docs",
                          dbt_target_dir=dbt_target)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert result.outcome == "passed", result.summary()
    check_queries = [s for s in seen if "batch_rows" in s]
    assert len(check_queries) == len(ALL_CHECKS), check_queries
    assert not [s for s in check_queries if "COUNT(*) as unexpected_row_count" in s]


_FRESH_PROCESS = """
import sys
from pathlib import Path
from expectations import gx_runner
from expectations.gate import run_gate
db, config_dir, docs, target = map(Path, sys.argv[1:5])
run_gate(db, run_id="dbt_only", config_dir=config_dir, data_docs_dir=docs, dbt_target_dir=target, checks=())
assert gx_runner._prefetching is None and "great_expectations" not in sys.modules, "GX imported without a GX check"
result = run_gate(db, run_id="with_gx", config_dir=config_dir, data_docs_dir=docs, dbt_target_dir=target)
assert result.outcome == "passed", result.summary()
assert gx_runner._prefetching is not None and gx_runner._prefetching.name == "gx-import"
assert not gx_runner._prefetching.is_alive() and "great_expectations" in sys.modules
print("ok")
"""


def test_gx_is_imported_in_the_background_only_when_a_gx_check_runs(good_db: Path, config_dir: Path,
                                                                     tmp_path: Path, dbt_target: Path) -> None:
    """In a fresh interpreter: a gate without GX checks never imports GX; with them, GX's import starts in a
    background thread (overlapping the gate's own queries) and is finished when GX evaluates."""
    import subprocess
    import sys

    from kam_warehouse.settings import REPO_ROOT

    done = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, str(good_db), str(config_dir),
                           str(tmp_path / "docs"), str(dbt_target)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]
