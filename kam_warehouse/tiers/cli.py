"""`kam tiers`: explain an account's tier, set and list manual overrides, simulate other weights/thresholds.

Thin: the logic is in kam_warehouse.tiers.{explain, overrides, simulate}. Expected failures raise
kam_warehouse.errors exceptions; `kam` prints them as one paragraph.
"""

from __future__ import annotations

from pathlib import Path

import typer

from kam_warehouse.dates import parse_day
from kam_warehouse.locking import warehouse_lock
from kam_warehouse.settings import Settings
from kam_warehouse.tiers.explain import explain as explain_account
from kam_warehouse.tiers.overrides import OverrideRefused, list_overrides, set_override
from kam_warehouse.tiers.readers import SCORES
from kam_warehouse.tiers.settings import BOUNDS, DIMENSIONS, TIER_ORDER

app = typer.Typer(help="Explain tiers, manage manual overrides, simulate weights and thresholds.",
                  no_args_is_help=True)

WarehouseOpt = typer.Option(None, "--warehouse", help="warehouse folder (default: KAM_WAREHOUSE_DIR)")
WeightsOpt = typer.Option(
    [], "--weights", help="[SEGMENT:]" + ",".join(f"{d}=W" for d in DIMENSIONS)
    + " (repeatable; a segment's weights sum to 1; unset ones keep the seed's)")
ThresholdsOpt = typer.Option(
    [], "--thresholds", help="[SEGMENT:]" + ",".join(f"{t}=T" for t in BOUNDS)
    + " (repeatable; lower bounds on the 0-100 score; unset ones keep the seed's)")
#: how long `override` waits for a running writer before saying who holds the warehouse
OVERRIDE_WAIT_SECONDS = 10.0


def _settings(warehouse: Path | None) -> Settings:
    return Settings.from_env(warehouse=warehouse)


@app.command()
def explain(account_id: str, warehouse: Path | None = WarehouseOpt) -> None:
    """Current tier, the score's components and the tier history of an account (or its group)."""
    e = explain_account(_settings(warehouse).build, account_id)
    if e.group != account_id:
        typer.echo(f"{account_id} is a member of group {e.group}; tiers are decided per group")
    typer.echo(f"group {e.group}: current tier {e.tier}" + (f" ({e.unassigned_reason})" if e.unassigned_reason else ""))
    if e.components:
        typer.echo(f"score components ({SCORES}):")
        for name, value in e.components.items():
            typer.echo(f"  {name:20} {value}")
    typer.echo("history:" if e.history else "history: none")
    for tier, start, end, score, reason, is_override in e.history:
        flag = " [override]" if is_override else ""
        typer.echo(f"  {start} .. {end or 'now':10} {tier:9} score {f'{score:.1f}' if score is not None else '-'}"
                   f"{flag}: {reason}")


@app.command()
def override(
    account_id: str,
    tier: str = typer.Option(..., "--tier", help=f"one of {', '.join(TIER_ORDER)}"),
    reason: str = typer.Option(..., "--reason"),
    set_by: str = typer.Option(..., "--set-by"),
    expires_on: str = typer.Option(..., "--expires-on",
                                   help="YYYY-MM-DD after the data's as-of date; the override holds through it"),
    warehouse: Path | None = WarehouseOpt,
) -> None:
    """Set a manual tier for a group (an account resolves to its group); applied by the next nightly run."""
    if tier not in TIER_ORDER:
        raise OverrideRefused(f"--tier {tier!r} is not a tier; use one of {', '.join(TIER_ORDER)}")
    expires = parse_day(expires_on, "--expires-on")
    s = _settings(warehouse)
    with warehouse_lock(s.lock_file, owner="kam tiers override", wait_seconds=OVERRIDE_WAIT_SECONDS):
        done = set_override(s.build, account_id, tier=tier, reason=reason, set_by=set_by, expires_on=expires)
    typer.echo(f"override set: {done.group} -> {done.tier} through {done.expires_on} ({reason}, by {set_by}); "
               f"the data is as of {done.as_of}: it takes effect at the next nightly tier step")


@app.command("overrides")
def overrides(warehouse: Path | None = WarehouseOpt) -> None:
    """List manual overrides, marking those expired by the data's as-of date (as the nightly applies them)."""
    as_of, rows = list_overrides(_settings(warehouse).build)
    if not rows:
        typer.echo("no overrides")
        return
    typer.echo(f"overrides (the data is as of {as_of or 'unknown: nothing loaded yet'}):")
    for o in rows:
        state = "in force" if o.in_force else f"expired (before the as-of date {as_of})"
        typer.echo(f"{o.account_id:12} {o.tier:9} through {o.expires_on or 'open-ended'} {state}, "
                   f"by {o.set_by}: {o.reason}")


@app.command("simulate")
def simulate_command(
    weights: list[str] = WeightsOpt,
    thresholds: list[str] = ThresholdsOpt,
    warehouse: Path | None = WarehouseOpt,
) -> None:
    """Which groups (and how much revenue) would change tier with these weights/thresholds; writes nothing."""
    from kam_warehouse.tiers.simulate import parse_spec, report, simulate  # pandas: only when asked

    sim = simulate(_settings(warehouse).build, parse_spec(weights, DIMENSIONS, "--weights"),
                   parse_spec(thresholds, BOUNDS, "--thresholds"))
    for line in report(sim):
        typer.echo(line)
