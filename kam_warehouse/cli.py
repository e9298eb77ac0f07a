"""`kam`: the command line. Every command calls the same functions the Airflow DAGs call.

Expected failures (KamError) print one paragraph naming what failed and what to do, and exit 1.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from kam_warehouse.errors import KamError
from kam_warehouse.settings import Settings

app = typer.Typer(
    help="KAM Warehouse: billing + CRM extracts -> key-account marts (DuckDB), gated by data-quality checks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")

LandingOpt = Annotated[
    Path | None, typer.Option("--landing", help="Landing zone root [env KAM_LANDING_DIR, default data/landing]")
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", help="Warehouse folder [env KAM_WAREHOUSE_DIR, default data/warehouse]"),
]


def progress(message: str) -> None:
    typer.echo(f"  · {message}", err=True)


def fails_cleanly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a KamError into a one-paragraph message on stderr and exit status 1."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except KamError as exc:
            typer.secho(f"kam: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=1) from exc

    return wrapper


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command("demo-data")
@fails_cleanly
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Landing folder to write (created if missing)")],
    accounts: Annotated[int, typer.Option(help="Number of CRM accounts")] = 300,
    months: Annotated[int, typer.Option(help="Months of billing history")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed (same seed -> same bytes)")] = 42,
    start: Annotated[str, typer.Option(help="First history month, YYYY-MM")] = "2023-01",
    days: Annotated[int, typer.Option(help="Daily delta folders after the initial full extract")] = 5,
    defects: Annotated[float, typer.Option(help="Defect injection rate (0 = clean); see _defects.json")] = 0.0,
    skew: Annotated[float, typer.Option(help="Revenue skew: log-normal sigma of account sizes (1.7 ~ 80/20)")] = 1.7,
    reuse: Annotated[
        bool, typer.Option("--reuse", help="Keep OUT as is when it was generated with these same options")
    ] = False,
) -> None:
    """Write deterministic sample billing + CRM extracts in the landing-zone layout (OUT must be empty)."""
    from kam_warehouse.generator import GeneratorOptions, already_generated, generate

    options = GeneratorOptions(out=out, accounts=accounts, months=months, seed=seed, start=start, days=days,
                               defects=defects, skew=skew)
    if reuse and already_generated(options):
        typer.echo(f"{out} already holds sample extracts generated with these options; reusing them")
        return
    typer.echo(str(generate(options, progress=progress)))


@app.command("run")
@fails_cleanly
def run(landing: LandingOpt = None, warehouse: WarehouseOpt = None) -> None:
    """The nightly pipeline without a scheduler: load -> dbt build -> quality gate -> tiers -> publish."""
    from kam_warehouse.pipeline import RunContext, run_nightly
    from kam_warehouse.summary import read_summary

    settings = Settings.from_env(landing, warehouse)
    ctx = RunContext.new(settings, progress=progress)
    typer.echo(f"kam run {ctx.run_id}: landing {settings.landing_dir} -> warehouse {settings.warehouse_dir}")
    for outcome in run_nightly(ctx):
        typer.echo(f"  ✓ {outcome.step}: {outcome.record.message or 'ok'}")
    typer.echo(read_summary(settings.serving_db).render())


@app.command("load")
@fails_cleanly
def load(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    through: Annotated[str | None, typer.Option(help="Load days up to YYYY-MM-DD only")] = None,
) -> None:
    """Load every complete landing day not yet loaded into raw.* (idempotent)."""
    from kam_warehouse.locking import warehouse_lock
    from kam_warehouse.pipeline import RunContext, step_load

    settings = Settings.from_env(landing, warehouse)
    ctx = RunContext.new(settings, progress=progress)
    with warehouse_lock(settings.lock_file):
        outcome = step_load(ctx, through_day=date.fromisoformat(through) if through else None)
    typer.echo(outcome.record.message or "nothing to load")


@app.command(
    "dbt", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@fails_cleanly
def dbt_passthrough(ctx: typer.Context, warehouse: WarehouseOpt = None) -> None:
    """Run any dbt command against the build warehouse, e.g. `kam dbt parse`, `kam dbt docs generate`."""
    from kam_warehouse import dbt

    result = dbt.invoke(Settings.from_env(None, warehouse), list(ctx.args))
    typer.echo(result.summary())


@app.command("manifest")
@fails_cleanly
def manifest() -> None:
    """Write dbt_project/target/manifest.json (`dbt parse`): the nightly DAG reads it at parse time."""
    from kam_warehouse import dbt

    typer.echo(f"dbt manifest written: {dbt.write_manifest(Settings.from_env())}")


@app.command("docs")
@fails_cleanly
def docs(warehouse: WarehouseOpt = None) -> None:
    """Generate the dbt docs as one static HTML file (works offline) and print where it is."""
    from kam_warehouse import dbt

    settings = Settings.from_env(None, warehouse)
    dbt.invoke(settings, ["docs", "generate", "--static"])
    typer.echo(f"dbt docs: open {dbt.dbt_state_dir(settings) / 'target' / 'static_index.html'} in a browser")


@app.command("summary")
@fails_cleanly
def summary(warehouse: WarehouseOpt = None) -> None:
    """Print the serving warehouse's latest top-20% share and accounts per tier."""
    from kam_warehouse.summary import read_summary

    settings = Settings.from_env(None, warehouse)
    if not settings.serving_db.exists():
        raise KamError(f"no serving warehouse at {settings.serving_db}: run `kam run` (or `make demo`) first")
    typer.echo(read_summary(settings.serving_db).render())


def _mount_subcommands() -> None:
    """Area CLIs live next to their code; mounted here so `kam --help` lists everything."""
    from kam_warehouse.serving.cli import register as register_serving
    from kam_warehouse.tiers.cli import app as tiers_app

    app.add_typer(tiers_app, name="tiers", help="Explain tiers, manage manual overrides.")
    register_serving(app)


_mount_subcommands()
