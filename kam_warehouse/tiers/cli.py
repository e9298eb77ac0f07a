"""`kam tiers`: explain an account's tier, set and list manual overrides."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import typer

from kam_warehouse.settings import Settings
from kam_warehouse.tiers.scores import SCORES, SCORES_SCHEMA, SCORES_TABLE
from kam_warehouse.tiers.settings import TIER_ORDER
from kam_warehouse.tiers.state import ensure_tier_state

app = typer.Typer(help="Explain tiers, manage manual overrides.", no_args_is_help=True)

WarehouseOpt = typer.Option(None, "--warehouse", help="warehouse folder (default: KAM_WAREHOUSE_DIR)")

SCORE_COLUMNS = ("segment", "score", "proposed_tier", "revenue_score", "potential_score", "strategic_score",
                 "relationship_score", "w_revenue", "w_potential", "w_strategic", "w_relationship",
                 "threshold_strategic", "threshold_key", "threshold_standard", "missing_inputs", "nine_box_cell",
                 "play")


def _db(warehouse: Path | None) -> Path:
    db = Settings.from_env(warehouse=warehouse).build_db
    if not db.exists():
        raise typer.BadParameter(f"no build warehouse at {db}; run `kam run` first", param_hint="--warehouse")
    return db


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                      [schema, table]).fetchone()
    return bool(row and row[0])


def _group_of(con: duckdb.DuckDBPyConnection, account_id: str) -> str:
    if _has(con, "marts", "dim_account"):
        row = con.execute("SELECT group_id FROM marts.dim_account WHERE account_id = ?", [account_id]).fetchone()
        if row and row[0]:
            return str(row[0])
    return account_id


@app.command()
def explain(account_id: str, warehouse: Path | None = WarehouseOpt) -> None:
    """Current tier, the score's components and the tier history of an account (or its group)."""
    with duckdb.connect(str(_db(warehouse)), read_only=True) as con:
        group = _group_of(con, account_id)
        if group != account_id:
            typer.echo(f"{account_id} is a member of group {group}; tiers are decided per group")
        history = con.execute(
            "SELECT tier, valid_from, valid_to, score, reason, is_override FROM tiers.account_tier_history "
            "WHERE account_id = ? ORDER BY valid_from", [group]).fetchall() if _has(
            con, "tiers", "account_tier_history") else []
        current = next((h for h in history if h[2] is None), None)
        typer.echo(f"group {group}: current tier {current[0] if current else '(none yet)'}")
        if _has(con, SCORES_SCHEMA, SCORES_TABLE):
            cols = ", ".join(SCORE_COLUMNS)
            row = con.execute(f"SELECT {cols} FROM {SCORES} WHERE account_id = ?", [group]).fetchone()
            if row:
                typer.echo(f"score components ({SCORES}):")
                for name, value in zip(SCORE_COLUMNS, row, strict=True):
                    typer.echo(f"  {name:20} {value}")
        typer.echo("history:")
        for tier, start, end, score, reason, is_override in history:
            flag = " [override]" if is_override else ""
            typer.echo(f"  {start} .. {end or 'now':10} {tier:9} score {score if score is not None else '-'}"
                       f"{flag}: {reason}")


@app.command()
def override(
    account_id: str,
    tier: str = typer.Option(..., "--tier", help=f"one of {', '.join(TIER_ORDER)}"),
    reason: str = typer.Option(..., "--reason"),
    set_by: str = typer.Option(..., "--set-by"),
    expires_on: str = typer.Option(..., "--expires-on", help="YYYY-MM-DD; the override holds through this day"),
    warehouse: Path | None = WarehouseOpt,
) -> None:
    """Set a manual tier for a group (an account resolves to its group); applied by the next nightly run."""
    if tier not in TIER_ORDER:
        raise typer.BadParameter(f"{tier!r} is not a tier; use one of {', '.join(TIER_ORDER)}", param_hint="--tier")
    try:
        expires = datetime.strptime(expires_on, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(f"{expires_on!r} is not YYYY-MM-DD", param_hint="--expires-on") from exc
    with duckdb.connect(str(_db(warehouse))) as con:
        ensure_tier_state(con)
        group = _group_of(con, account_id)
        con.execute("BEGIN")
        con.execute("DELETE FROM tiers.tier_overrides WHERE account_id = ?", [group])
        con.execute("INSERT INTO tiers.tier_overrides VALUES (?, ?, ?, ?, ?)", [group, tier, reason, set_by, expires])
        con.execute("COMMIT")
    typer.echo(f"override set: {group} -> {tier} until {expires} ({reason}, by {set_by}); "
               "it takes effect at the next nightly tier step")


@app.command("overrides")
def list_overrides(warehouse: Path | None = WarehouseOpt) -> None:
    """List manual overrides (expired ones included, marked)."""
    with duckdb.connect(str(_db(warehouse)), read_only=True) as con:
        if not _has(con, "tiers", "tier_overrides"):
            typer.echo("no overrides")
            return
        rows = con.execute("SELECT account_id, tier, expires_on, set_by, reason, expires_on < current_date "
                           "FROM tiers.tier_overrides ORDER BY account_id").fetchall()
    for account, tier, expires, who, reason, expired in rows:
        typer.echo(f"{account:12} {tier:9} until {expires}{' (expired)' if expired else ''} by {who}: {reason}")
    if not rows:
        typer.echo("no overrides")
