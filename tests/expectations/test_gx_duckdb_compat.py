"""The GX/DuckDB connection workaround stays necessary, applicable and effective."""

from __future__ import annotations

from pathlib import Path

import duckdb

from expectations import gx_duckdb_compat


def test_gx_still_lists_persisted_dialects_without_duckdb() -> None:
    """Fails when GX renames `_PERSISTED_CONNECTION_DIALECTS` or lists DuckDB itself (then drop the module)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

    names = [getattr(d, "value", d) for d in engine_module._PERSISTED_CONNECTION_DIALECTS]
    assert "sqlite" in names
    if "duckdb" in names:
        assert isinstance(
            next(d for d in engine_module._PERSISTED_CONNECTION_DIALECTS if d == "duckdb"),
            gx_duckdb_compat._DuckDBDialect,
        ), "GX now lists duckdb natively: delete expectations/gx_duckdb_compat.py"


def test_apply_makes_gx_evaluate_expectations_on_duckdb(tmp_path: Path) -> None:
    """With the workaround an expectation on a DuckDB table evaluates (without it GX fails every metric)."""
    import great_expectations as gx

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(5)")
    gx_duckdb_compat.apply()
    gx_duckdb_compat.apply()
    assert gx_duckdb_compat.gx_persists_duckdb_connections()
    context = gx.get_context(mode="ephemeral")
    ds = context.data_sources.add_sql(name="d", connection_string=f"duckdb:///{db}")
    batch = ds.add_table_asset(name="t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    result = batch.validate(gx.expectations.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=3))
    assert result.exception_info.get("raised_exception") is not True
    assert result.success is False and result.result["unexpected_count"] == 1


def test_the_workaround_is_keyed_on_the_warehouse_dialect(tmp_path: Path) -> None:
    """The gate applies it for the warehouse's SQLAlchemy URL: DuckDB's only (PostgreSQL needs none)."""
    from kam_warehouse.core.warehouse import locate

    assert gx_duckdb_compat.dialect_of("postgresql+psycopg2://kam@db:5432/kam_build") == "postgresql"
    assert gx_duckdb_compat.apply_for(locate("postgresql://kam@db:5432/kam", tmp_path).build.sqlalchemy_url()) is False
    assert gx_duckdb_compat.apply_for(locate("", tmp_path).build.sqlalchemy_url()) is True
    assert gx_duckdb_compat.gx_persists_duckdb_connections()
