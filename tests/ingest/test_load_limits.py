"""The load's DuckDB instance honours config/pipeline.yml `build:` (duckdb_memory_limit,
duckdb_temp_directory) like the dbt build does: without it DuckDB takes 80% of the host's RAM (a
100M-line load held ~19 GB of 24 GB while the build was limited to 3 GB)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.working import open_working
from kam_warehouse.core.warehouse.duckdb_limits import DuckDBLimits
from kam_warehouse.settings import Settings


def _settings(tmp_path: Path, pipeline_yml: str | None) -> Settings:
    config = tmp_path / "config"
    config.mkdir()
    if pipeline_yml is not None:
        (config / "pipeline.yml").write_text(pipeline_yml)
    return Settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh", config_dir=config)


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_limits_come_from_pipeline_yml_and_the_environment_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KAM_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("KAM_DUCKDB_TEMP_DIRECTORY", raising=False)
    s = _settings(tmp_path, "build:\n  duckdb_memory_limit: 1GB\n  duckdb_temp_directory: ''\n")
    assert s.duckdb_limits() == DuckDBLimits("1GB", s.warehouse_dir / "tmp")
    monkeypatch.setenv("KAM_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("KAM_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    assert s.duckdb_limits() == DuckDBLimits("700MB", tmp_path / "spill")


def test_no_pipeline_yml_means_the_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KAM_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("KAM_DUCKDB_TEMP_DIRECTORY", raising=False)
    s = _settings(tmp_path, None)
    assert s.duckdb_limits() == DuckDBLimits("3GB", s.warehouse_dir / "tmp")


def test_the_load_works_inside_the_limits(tmp_path: Path) -> None:
    """The connection the load works in (here the embedded build file itself; a server warehouse's
    local working file gets the same call in ingest.working.open_working) runs with the configured
    memory limit and spill folder."""
    limits = DuckDBLimits("123MB", tmp_path / "spill")
    with open_working(tmp_path / "build.duckdb", None, limits) as w:
        assert (tmp_path / "spill").is_dir()
        # DuckDB reports the limit in its own units (123MB -> 117.3 MiB)
        assert _setting(w.con, "memory_limit") == "117.3 MiB"
        assert _setting(w.con, "temp_directory") == str(tmp_path / "spill")
    with open_working(tmp_path / "build.duckdb") as w:  # no limits: DuckDB's own default (80% of RAM)
        assert _setting(w.con, "memory_limit") != "117.3 MiB"
