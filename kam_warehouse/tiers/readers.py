"""Reading the build warehouse for the tier step and `kam tiers`: the contracted score mart, the data's
as-of date, account -> group resolution, and read-only connections that fail in one paragraph when a
writer holds the file."""

from __future__ import annotations

import difflib
from datetime import date

from kam_warehouse.asof import as_of_in
from kam_warehouse.core.warehouse import Connection, WarehouseInUse, WarehouseTarget, as_warehouse, connect
from kam_warehouse.errors import KamError, StepFailed, WarehouseBusy

SCORES_SCHEMA = "marts"
SCORES_TABLE = "mart_account_tier_scores"
SCORES = f"{SCORES_SCHEMA}.{SCORES_TABLE}"
DIM_ACCOUNT = "marts.dim_account"


class UnknownAccount(KamError):
    """An account id that the CRM accounts of this warehouse do not have."""


def require_warehouse(target: WarehouseTarget) -> None:
    """Raise KamError (what to do) when the build warehouse does not exist yet."""
    warehouse = as_warehouse(target)
    if not warehouse.exists():
        raise KamError(f"no build warehouse at {warehouse.describe()}; run `kam run` (or pass --warehouse) first")


def connect_read_only(target: WarehouseTarget) -> Connection:
    """Open the build warehouse read-only; raise WarehouseBusy (one paragraph) when a writer has it open."""
    require_warehouse(target)
    try:
        return connect(target, read_only=True)
    except WarehouseInUse as exc:
        raise WarehouseBusy(
            f"the build warehouse {as_warehouse(target).describe()} is busy: another process (a `kam run`, `kam load`, "
            "`kam tiers override` or an Airflow task) has it open for writing, and DuckDB lets no one read "
            "it meanwhile. Nothing was read or changed; try again when that run has finished.") from exc


def has_relation(con: Connection, schema: str, table: str) -> bool:
    return con.has_relation(schema, table)


def require_scores(con: Connection, step: str) -> None:
    """Raise StepFailed when the score mart has not been built in this warehouse."""
    if not has_relation(con, SCORES_SCHEMA, SCORES_TABLE):
        raise StepFailed(step, f"{SCORES} does not exist in this warehouse; run the dbt build (`kam run`) first")


def data_as_of(con: Connection) -> date | None:
    """The data's as-of date: the latest extract day loaded (the night the tier step reclassifies)."""
    return as_of_in(con)


def group_of(con: Connection, account_id: str) -> str:
    """The group (tier unit) of a CRM account, merged accounts through their survivor.

    Raises UnknownAccount when marts.dim_account does not list the account."""
    if not has_relation(con, "marts", "dim_account"):
        raise UnknownAccount(f"cannot resolve account {account_id!r}: {DIM_ACCOUNT} does not exist in this "
                             "warehouse yet; run `kam run` first")
    row = con.execute(f"SELECT group_id FROM {DIM_ACCOUNT} WHERE account_id = ?", [account_id]).fetchone()
    if row is None:
        known = [str(r[0]) for r in con.execute(f"SELECT account_id FROM {DIM_ACCOUNT}").fetchall()]
        near = difflib.get_close_matches(account_id, known, n=3, cutoff=0.0)
        raise UnknownAccount(f"account {account_id!r} is not a CRM account of this warehouse "
                             f"({DIM_ACCOUNT}); closest ids: {', '.join(near) or 'none'}")
    return str(row[0] or account_id)
