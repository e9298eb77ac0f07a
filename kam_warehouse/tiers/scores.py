"""Where the tier step, `kam tiers` and the simulation read tonight's scores: the contracted dbt mart."""

from __future__ import annotations

import duckdb

from kam_warehouse.errors import StepFailed

SCORES_SCHEMA = "marts"
SCORES_TABLE = "mart_account_tier_scores"
SCORES = f"{SCORES_SCHEMA}.{SCORES_TABLE}"


def has_relation(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                      [schema, table]).fetchone()
    return bool(row and row[0])


def require_scores(con: duckdb.DuckDBPyConnection, step: str) -> None:
    """Raise StepFailed when the score mart has not been built in this warehouse."""
    if not has_relation(con, SCORES_SCHEMA, SCORES_TABLE):
        raise StepFailed(step, f"{SCORES} does not exist in this warehouse; run the dbt build (`kam run`) first")
