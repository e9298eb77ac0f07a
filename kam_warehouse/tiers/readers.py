"""Reading the build warehouse for the tier step and `kam tiers`: the contracted score mart, the data's
as-of date, account -> group resolution, and read-only connections that fail in one paragraph when a
writer holds the file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from kam_warehouse.asof import as_of_in
from kam_warehouse.errors import KamError, StepFailed, WarehouseBusy

SCORES_SCHEMA = "marts"
SCORES_TABLE = "mart_account_tier_scores"
SCORES = f"{SCORES_SCHEMA}.{SCORES_TABLE}"
DIM_ACCOUNT = "marts.dim_account"


class UnknownAccount(KamError):
    """An account id that the CRM accounts of this warehouse do not have."""


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """Open `db_path` read-only; raise WarehouseBusy (one paragraph) when a writer has it open."""
    if not db_path.exists():
        raise KamError(f"no build warehouse at {db_path}; run `kam run` (or pass --warehouse) first")
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusy(
            f"the build warehouse {db_path} is busy: another process (a `kam run`, `kam load`, "
            "`kam tiers override` or an Airflow task) has it open for writing, and DuckDB lets no one read "
            "it meanwhile. Nothing was read or changed; try again when that run has finished.") from exc


def has_relation(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                      [schema, table]).fetchone()
    return bool(row and row[0])


def require_scores(con: duckdb.DuckDBPyConnection, step: str) -> None:
    """Raise StepFailed when the score mart has not been built in this warehouse."""
    if not has_relation(con, SCORES_SCHEMA, SCORES_TABLE):
        raise StepFailed(step, f"{SCORES} does not exist in this warehouse; run the dbt build (`kam run`) first")


def data_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The data's as-of date: the latest extract day loaded (the night the tier step reclassifies)."""
    return as_of_in(con)


def group_of(con: duckdb.DuckDBPyConnection, account_id: str) -> str:
    """The group (tier unit) of a CRM account, merged accounts through their survivor.

    Raises UnknownAccount when marts.dim_account does not list the account."""
    if not has_relation(con, "marts", "dim_account"):
        raise UnknownAccount(f"cannot resolve account {account_id!r}: {DIM_ACCOUNT} does not exist in this "
                             "warehouse yet; run `kam run` first")
    row = con.execute(f"SELECT group_id FROM {DIM_ACCOUNT} WHERE account_id = ?", [account_id]).fetchone()
    if row is None:
        near = [r[0] for r in con.execute(
            f"SELECT account_id FROM {DIM_ACCOUNT} ORDER BY jaro_winkler_similarity(account_id, ?) DESC LIMIT 3",
            [account_id]).fetchall()]
        raise UnknownAccount(f"account {account_id!r} is not a CRM account of this warehouse "
                             f"({DIM_ACCOUNT}); closest ids: {', '.join(near) or 'none'}")
    return str(row[0] or account_id)
