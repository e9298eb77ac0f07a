"""The gate and the tier step on a real PostgreSQL build, against the DuckDB build of the same data.

One generated book is loaded into DuckDB and built there; its raw tables are copied into a PostgreSQL
build database (tests/dbt/engine_copy.py) and dbt builds it there (KAM_WAREHOUSE_URL -> the settings'
build warehouse). Then the same code runs on both engines: the quality gate passes on both builds and
blocks the same defect; the tier step, an override, explain, the override list and a simulation give the
same results on PostgreSQL as on DuckDB; `kam tiers` honours KAM_WAREHOUSE_URL. One build per engine for
the module (the PostgreSQL dbt build takes ~1.5 min here).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kam_warehouse.asof import as_of_date
from kam_warehouse.core.warehouse import connect
from kam_warehouse.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.e2e

DATABASE = "kam_tiers_engines"
#: dbt's unit tests are the dbt suites' business (tests/dbt); these builds only need the models + data tests
UNIT_TESTS = "test_type:unit"
#: tier history and change log as compared across engines (score separately, to 1e-9)
HISTORY = ("SELECT account_id, tier, valid_from, valid_to, reason, is_override, score "
           "FROM tiers.account_tier_history ORDER BY account_id, valid_from")
CHANGES = ("SELECT as_of, account_id, from_tier, to_tier, reason, score FROM ops.tier_changes "
           "ORDER BY as_of, account_id")


@dataclass(frozen=True)
class Engines:
    duckdb: Settings
    postgres: Settings
    as_of: date


@pytest.fixture(scope="module")
def engines(postgres_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    from ingest.load import load_landing
    from kam_warehouse import dbt
    from sample_extracts import GeneratorOptions, generate

    sys.path.insert(0, str(Path(__file__).parents[1] / "dbt"))
    from engine_copy import copy_schema_to_postgres

    root = tmp_path_factory.mktemp("engines")
    config = REPO_ROOT / "config"
    url = f"postgresql://{postgres_server.user}@{postgres_server.host}:{postgres_server.port}/{DATABASE}"
    duck = Settings(landing_dir=root / "landing", warehouse_dir=root / "duckdb", config_dir=config)
    pg = Settings(landing_dir=root / "landing", warehouse_dir=root / "postgres", config_dir=config, warehouse_url=url)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        env.setenv("DO_NOT_TRACK", "1")
        env.setenv("GX_ANALYTICS_ENABLED", "false")
        for s in (duck, pg):
            s.ensure_dirs()
        generate(GeneratorOptions(out=duck.landing_dir, accounts=40, months=15, days=1))
        load_landing(duck.landing_dir, duck.build_db, run_id="t", rejected_dir=duck.rejected_dir)
        dbt.build(duck, exclude=UNIT_TESTS)
        for database in (DATABASE, DATABASE + "_build"):
            postgres_server.psql(f'drop database if exists "{database}" with (force)')
            postgres_server.psql(f"create database \"{database}\" template template0 lc_collate 'C' lc_ctype 'C'")
        copy_schema_to_postgres(duck.build_db, postgres_server.url(DATABASE + "_build"))
        dbt.build(pg, exclude=UNIT_TESTS)
        as_of = as_of_date(duck.build)
        assert as_of is not None and as_of == as_of_date(pg.build)
        yield Engines(duck, pg, as_of)


def _gate(settings: Settings, tmp_path: Path, run_id: str):
    from expectations.gate import run_gate
    from kam_warehouse.dbt import last_build_dir

    return run_gate(settings.build, run_id=run_id, config_dir=settings.config_dir,
                    data_docs_dir=tmp_path / run_id, dbt_target_dir=last_build_dir(settings))


def _rows(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with connect(settings.build, read_only=True) as con:
        return con.execute(sql, params).fetchall()


def _same(duck_rows: list[tuple], pg_rows: list[tuple]) -> None:
    """Equal row for row; the last column (a score) to 1e-9."""
    assert len(duck_rows) == len(pg_rows)
    for d, p in zip(duck_rows, pg_rows, strict=True):
        assert d[:-1] == p[:-1]
        assert (d[-1] is None and p[-1] is None) or abs(float(d[-1]) - float(p[-1])) < 1e-9, (d, p)


def test_gate_on_the_postgres_build_passes_blocks_a_defect_and_fails_a_missing_relation(
        engines: Engines, tmp_path: Path) -> None:
    """The gate judges the PostgreSQL build as it judges the DuckDB one (same checks, same verdicts, rows in
    ops.dq_results of the build database); a blocking defect blocks; a relation a GX check reads that is
    missing fails that check by name."""
    duck, pg = _gate(engines.duckdb, tmp_path, "g1"), _gate(engines.postgres, tmp_path, "g1")
    assert pg.outcome == "passed", pg.summary()
    assert {(r.name, r.success) for r in pg.results} == {(r.name, r.success) for r in duck.results}
    assert any(r.home == "dbt" for r in pg.results) and any(r.home == "gx" for r in pg.results)
    recorded = _rows(engines.postgres, "SELECT count(*), count(*) FILTER (WHERE success) FROM ops.dq_results "
                                       "WHERE run_id = 'g1'")
    assert recorded == [(len(pg.results), len(pg.results))]
    with connect(engines.postgres.build) as con:
        con.execute("ALTER TABLE staging.stg_crm__contacts RENAME TO stg_crm__contacts_gone")
        con.execute("UPDATE raw.load_manifest SET rows_quarantined = rows_read "
                    "WHERE extract_day = (SELECT max(extract_day) FROM raw.load_manifest) AND entity = 'accounts'")
    try:
        blocked = _gate(engines.postgres, tmp_path, "g2")
    finally:
        with connect(engines.postgres.build) as con:
            con.execute("ALTER TABLE staging.stg_crm__contacts_gone RENAME TO stg_crm__contacts")
            con.execute("UPDATE raw.load_manifest SET rows_quarantined = rows_read - rows_loaded")
    assert blocked.outcome == "blocked"
    assert "reconcile.raw_keys_in_staging relation staging.stg_crm__contacts does not exist" in blocked.failed_blocking
    assert any(line.startswith("raw.quarantine_share crm.accounts 100.0% > 2%") for line in blocked.failed_blocking)
    assert _rows(engines.postgres, "SELECT expectation FROM ops.dq_results WHERE run_id = 'g2' AND NOT success "
                                   "ORDER BY 1") == [("raw.quarantine_share",), ("reconcile.raw_keys_in_staging",)]


def test_tiers_override_explain_and_simulate_equal_across_engines(engines: Engines) -> None:
    """The night's tiers, a manual override applied the next night, explain, the override list and a
    simulation: the same on PostgreSQL as on DuckDB."""
    from kam_warehouse.tiers import reclassify
    from kam_warehouse.tiers.explain import explain
    from kam_warehouse.tiers.overrides import list_overrides, set_override
    from kam_warehouse.tiers.settings import BOUNDS, DIMENSIONS
    from kam_warehouse.tiers.simulate import parse_spec, simulate

    both = (engines.duckdb, engines.postgres)
    first = [reclassify(s.build, run_id="night1", as_of=engines.as_of, config_dir=s.config_dir) for s in both]
    assert first[0] == first[1] and first[0].scored > 10 and first[0].changes == first[0].scored
    _same(*(_rows(s, HISTORY) for s in both))
    ((account,), *_) = _rows(engines.duckdb, "SELECT account_id FROM tiers.account_tier_history "
                                                 "WHERE tier <> 'strategic' ORDER BY account_id LIMIT 1")
    expires = engines.as_of + timedelta(days=30)
    for s in both:
        set_override(s.build, account, tier="strategic", reason="board decision", set_by="ann", expires_on=expires)
    second = [reclassify(s.build, run_id="night2", as_of=engines.as_of + timedelta(days=1), config_dir=s.config_dir)
              for s in both]
    assert second[0] == second[1] and second[0].overrides_applied == 1
    _same(*(_rows(s, HISTORY) for s in both))
    _same(*(_rows(s, CHANGES) for s in both))
    explained = [explain(s.build, account) for s in both]
    assert explained[0].tier == explained[1].tier == "strategic"
    assert [h[:3] + h[4:] for h in explained[0].history] == [h[:3] + h[4:] for h in explained[1].history]
    assert explained[1].history[-1][4].startswith("manual override by ann until ")
    assert {k: str(v) for k, v in explained[0].components.items() if isinstance(v, str)} == \
           {k: v for k, v in explained[1].components.items() if isinstance(v, str)}
    assert list_overrides(engines.duckdb.build) == list_overrides(engines.postgres.build)
    sims = [simulate(s.build, parse_spec(["revenue=0.7,potential=0.1,strategic=0.1,relationship=0.1"], DIMENSIONS,
                                         "--weights"), parse_spec(["key=50"], BOUNDS, "--thresholds"))
            for s in both]
    columns = ["segment", "current_tier", "simulated_tier", "changes"]
    assert sims[0].frame[columns].equals(sims[1].frame[columns]) and sims[0].groups == sims[1].groups
    assert (sims[0].frame["simulated_score"] - sims[1].frame["simulated_score"]).abs().max() < 1e-9


def test_kam_tiers_honours_the_warehouse_url(engines: Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kam tiers explain` and `kam tiers overrides` read the PostgreSQL build when KAM_WAREHOUSE_URL
    names it, and print what they print on DuckDB."""
    from kam_warehouse.cli import app

    (account,) = _rows(engines.postgres, "SELECT min(account_id) FROM tiers.account_tier_history")[0]
    outputs = []
    for s in (engines.duckdb, engines.postgres):
        monkeypatch.setenv("KAM_WAREHOUSE_URL", s.warehouse_url)
        monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(s.warehouse_dir))
        runs = [CliRunner().invoke(app, ["tiers", *args]) for args in (["explain", account], ["overrides"])]
        assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
        explained = runs[0].output.splitlines()
        outputs.append((explained[0], [line for line in explained if line.startswith("  20")], runs[1].output))
    assert outputs[0][0].startswith(f"group {account}: current tier ")
    assert outputs[0] == outputs[1]


def test_summary_and_tier_fingerprint_read_either_engine(engines: Engines) -> None:
    """The run's closing summary and the tier-history fingerprint (night_inputs) read PostgreSQL too."""
    from kam_warehouse.night_inputs import _tier_fingerprint
    from kam_warehouse.summary import read_summary

    duck, pg = (read_summary(s.build) for s in (engines.duckdb, engines.postgres))
    assert (duck.latest_month, duck.active_accounts, duck.accounts_per_tier) == (
        pg.latest_month, pg.active_accounts, pg.accounts_per_tier)
    assert duck.top_20pct_share is not None and pg.top_20pct_share is not None
    assert abs(duck.top_20pct_share - pg.top_20pct_share) < 1e-9 and pg.serving_path == engines.postgres.build.describe()
    (rows,) = _rows(engines.postgres, "SELECT count(*) FROM tiers.account_tier_history")[0]
    fingerprint = _tier_fingerprint(engines.postgres.build, "tiers.account_tier_history")
    assert fingerprint is not None and fingerprint[0] == rows and fingerprint == _tier_fingerprint(
        engines.postgres.build, "tiers.account_tier_history")
    assert _tier_fingerprint(engines.postgres.build, "tiers.no_such_history") is None
