"""`kam`: the command line. Every command calls the same functions the Airflow DAGs call.

Every expected failure of every command (sub-apps included) prints one paragraph naming what failed and
what to do, and exits 1; bad arguments exit 2 with click's usage message. Never a traceback: an
unexpected exception is one paragraph too, its traceback goes to the log file (KamGroup).
Output is quiet: one line per step; the full logs are in a file under the warehouse folder (console.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click import exceptions as click_exceptions  # typer >= 0.24 vendors click
from typer.core import TyperGroup

from kam_warehouse import console
from kam_warehouse.cli_failures import fail, fails_cleanly
from kam_warehouse.dates import DateFormatError, parse_day, parse_month
from kam_warehouse.errors import KamError, WarehouseBusy
from kam_warehouse.settings import Settings

if TYPE_CHECKING:
    from kam_warehouse.core.warehouse import WarehouseInUse

#: exceptions click/typer turn into a usage message or an exit status themselves
_CLICK_HANDLES = (typer.Exit, typer.Abort, typer.TyperException, click_exceptions.ClickException)

def failure_paragraph(exc: BaseException) -> str:
    """The one paragraph `kam` prints for an exception escaping a command."""
    from kam_warehouse.core.warehouse import engine_errors, in_use

    held = in_use(exc)
    if held is not None:
        return str(busy_warehouse(held))
    if isinstance(exc, KamError):
        return str(exc)
    if isinstance(exc, DateFormatError):
        return f"{exc}"
    if isinstance(exc, engine_errors()):
        return f"the warehouse could not complete the command: {' '.join(str(exc).split())}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    where = console.record_crash(exc)
    return (f"unexpected error: {type(exc).__name__}: {' '.join(str(exc).split())}. "
            f"This is a bug in kam; the traceback is in {where} (please attach it to the report).")


def busy_warehouse(exc: WarehouseInUse) -> WarehouseBusy:
    """A warehouse another process holds open (an embedded file's lock) as the person at the keyboard
    needs it: which file, which process holds it, and what to do."""
    path = exc.path
    pid = exc.holder_pid
    who = f"process {pid} ({_command_line(str(pid)) or exc.holder})" if pid is not None else "another process"
    lock_note = ""
    if path is not None:
        from kam_warehouse.locking import describe_holder

        held = describe_holder(path.parent / ".build.lock")
        lock_note = f" The warehouse write lock is held by {held}." if held else ""
    return WarehouseBusy(
        f"the warehouse {path or '(file)'} is busy: {who} has it open for writing (a `kam run`, "
        f"`kam load`, `kam tiers override` or an Airflow task).{lock_note} Try again when it has finished."
    )


def _command_line(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:200]


class KamGroup(TyperGroup):
    """The `kam` group: turns any exception escaping a command (of any sub-app) into one paragraph."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _CLICK_HANDLES:
            raise
        except DateFormatError as exc:
            raise typer.BadParameter(str(exc)) from exc
        except Exception as exc:  # the one place every failure becomes a paragraph
            fail(failure_paragraph(exc), cause=exc)


app = typer.Typer(
    cls=KamGroup,
    help="KAM Warehouse: billing + CRM extracts -> key-account marts (embedded DuckDB, or PostgreSQL by KAM_WAREHOUSE_URL), gated by data-quality checks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

LandingOpt = Annotated[
    Path | None, typer.Option("--landing", help="Landing zone root [env KAM_LANDING_DIR, default data/landing]")
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", help="Warehouse folder [env KAM_WAREHOUSE_DIR, default data/warehouse]"),
]


def progress(message: str) -> None:
    """Progress detail of a step: the log file; stderr too with --verbose."""
    console.progress(message)


def day_option(value: str | None, option: str) -> Any:
    """A strict YYYY-MM-DD option value (None stays None); a bad one is a usage error naming the option."""
    if value is None:
        return None
    try:
        return parse_day(value, "")
    except DateFormatError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def month_option(value: str, option: str) -> Any:
    """A strict YYYY-MM option value; a bad one is a usage error naming the option."""
    try:
        return parse_month(value, "")
    except DateFormatError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Stream dbt's, GX's and the steps' logs")] = False,
) -> None:
    console.configure(verbose)


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
    try:  # the generator is a dev/demo tool in the source tree, not part of the runtime wheel
        from sample_extracts import GeneratorOptions, already_generated, generate
    except ImportError as exc:
        raise KamError("kam demo-data needs the sample-extract generator (package sample_extracts/), which ships "
                       "with the source checkout, not in the kam-warehouse wheel: run it from a clone of the "
                       f"repository (make setup), or point --landing at real extracts ({exc})") from exc

    month_option(start, "--start")
    options = GeneratorOptions(out=out, accounts=accounts, months=months, seed=seed, start=start, days=days,
                               defects=defects, skew=skew)
    if reuse and already_generated(options):
        typer.echo(f"{out} already holds sample extracts generated with these options; reusing them")
        return
    typer.echo(str(generate(options, progress=progress)))


@app.command("run")
@fails_cleanly
def run(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Build and publish even with nothing new to load")] = False,
) -> None:
    """The nightly pipeline without a scheduler: load -> dbt build -> quality gate -> tiers -> publish.

    A night with nothing new since the served build publishes nothing and says so (--rebuild forces it)."""
    from kam_warehouse.pipeline import RunContext, check_landing, run_nightly
    from kam_warehouse.summary import read_summary

    settings = Settings.from_env(landing, warehouse)
    notices = check_landing(settings)  # before anything is created or built
    ctx = RunContext.new(settings, progress=progress)
    with console.log_file(settings.warehouse_dir, ctx.run_id) as log_path:
        typer.echo(f"kam run {ctx.run_id}: landing {settings.landing_dir} -> warehouse {settings.warehouse_dir}")
        typer.echo(f"  log: {log_path}")
        for notice in notices:
            typer.echo(f"  ! {notice}")
        run_nightly(ctx, on_step=lambda o: typer.echo(f"  ✓ {o.step}: {o.record.message or 'ok'}"),
                    landing_checked=True, rebuild=rebuild)
        typer.echo(read_summary(settings.serving).render())


@app.command("load")
@fails_cleanly
def load(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    through: Annotated[str | None, typer.Option(help="Load days up to YYYY-MM-DD only")] = None,
) -> None:
    """Load every complete landing day not yet loaded into raw.* (idempotent)."""
    from kam_warehouse.locking import warehouse_lock
    from kam_warehouse.pipeline import LOCK_WAIT_SECONDS, RunContext, check_landing, step_load

    through_day = day_option(through, "--through")
    settings = Settings.from_env(landing, warehouse)
    for notice in check_landing(settings):
        typer.echo(f"! {notice}")
    ctx = RunContext.new(settings, progress=progress)
    with (console.log_file(settings.warehouse_dir, ctx.run_id),
          warehouse_lock(settings.lock_file, owner="kam load", wait_seconds=LOCK_WAIT_SECONDS)):
        outcome = step_load(ctx, through_day=through_day)
    typer.echo(outcome.record.message or "nothing to load")


@app.command(
    "dbt", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@fails_cleanly
def dbt_passthrough(ctx: typer.Context, warehouse: WarehouseOpt = None) -> None:
    """Run any dbt command against the build warehouse, e.g. `kam dbt parse`, `kam dbt docs generate`."""
    from kam_warehouse import dbt

    console.stream_dbt_to_stdout()  # dbt's own output is what was asked for
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
    if not settings.serving.exists():
        raise KamError(f"no serving warehouse at {settings.serving.describe()}: run `kam run` (or `make demo`) first")
    typer.echo(read_summary(settings.serving).render())


def _mount_subcommands() -> None:
    """Area CLIs live next to their code; mounted here so `kam --help` lists everything."""
    from kam_warehouse.serving.cli import register as register_serving
    from kam_warehouse.tiers.cli import app as tiers_app

    app.add_typer(tiers_app, name="tiers", help="Explain tiers, manage manual overrides.")
    register_serving(app)


_mount_subcommands()
