"""`kam publish`, `kam close`, `kam report concentration`: mounted by kam_warehouse.cli via register(app)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from kam_warehouse.settings import Settings

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", help="Warehouse folder [env KAM_WAREHOUSE_DIR, default data/warehouse]"),
]
MonthOpt = Annotated[str, typer.Option("--month", help="Month as YYYY-MM")]


def parse_month(text: str) -> date:
    from kam_warehouse.dates import DateFormatError  # strict: "2025-1" is refused
    from kam_warehouse.dates import parse_month as strict_month

    try:
        return strict_month(text, "")
    except DateFormatError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from exc


def _run_id(kind: str) -> str:
    return f"{kind}__{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


def _settings(warehouse: Path | None) -> Settings:
    return Settings.from_env(warehouse=warehouse)


def register(app: typer.Typer) -> None:
    """Add `publish`, `close` and the `report` sub-app (with `concentration`) to the kam app."""
    from kam_warehouse.cli_failures import fails_cleanly

    @app.command("publish")
    @fails_cleanly
    def publish_cmd(
        warehouse: WarehouseOpt = None,
        do_rollback: Annotated[bool, typer.Option("--rollback", help="Serve again a kept build that was served before")] = False,
        to: Annotated[str | None, typer.Option("--to", help="Kept, previously served build (name or run id) for --rollback; "
                                               "default: the one published before the served build")] = None,
    ) -> None:
        """Publish the build warehouse to the serving warehouse (write-audit-publish), or roll back."""
        from kam_warehouse.locking import warehouse_lock
        from kam_warehouse.serving import publish, rollback

        s = _settings(warehouse)
        with warehouse_lock(s.lock_file):
            result = rollback(s, to=to) if do_rollback else publish(s, run_id=_run_id("publish"))
        verb = "rolled back to" if do_rollback else "published"
        typer.echo(f"{verb} build {result.run_id}: {result.tables} tables -> {result.serving_path} "
                   f"(parquet: {result.parquet_dir})")

    @app.command("close")
    @fails_cleanly
    def close_cmd(
        month: MonthOpt,
        warehouse: WarehouseOpt = None,
        force: Annotated[bool, typer.Option("--force", help="Re-close a closed month (recorded)")] = False,
        reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded; required with --force)")] = None,
    ) -> None:
        """Freeze a month's whole concentration report (month-end close) and publish it: quality gate,
        close, publish. Closing again is a recorded no-op; --force --reason re-closes as a new version."""
        from kam_warehouse.locking import warehouse_lock
        from kam_warehouse.serving import close_and_publish

        s = _settings(warehouse)
        with warehouse_lock(s.lock_file):
            result = close_and_publish(s, parse_month(month), run_id=_run_id("close"), force=force, reason=reason)
        typer.echo(result.message)

    warehouse_app = typer.Typer(help="The serving warehouse's readers (server warehouses).", no_args_is_help=True)
    app.add_typer(warehouse_app, name="warehouse")

    @warehouse_app.command("grant-reader")
    @fails_cleanly
    def grant_reader_cmd(
        role: Annotated[str, typer.Argument(help="Role to make a read-only reader of marts and ops")],
        warehouse: WarehouseOpt = None,
        create: Annotated[bool, typer.Option("--create", help="Create the role (NOLOGIN: grant it to BI logins)")] = False,
    ) -> None:
        """Make ROLE a read-only reader of the served schemas (marts, ops), now and at every later publish."""
        from kam_warehouse.serving.readers import grant_reader

        s = _settings(warehouse)
        schemas = grant_reader(s, role, create=create)
        typer.echo(f"{role} reads {s.serving.describe()}: SELECT on {', '.join(schemas) or 'marts, ops (at the next publish)'}; "
                   "every publish grants it on the new build before the swap")

    report_app = typer.Typer(help="Reports from the serving warehouse (read-only).", no_args_is_help=True)
    app.add_typer(report_app, name="report")

    @report_app.command("concentration")
    @fails_cleanly
    def concentration_cmd(
        month: MonthOpt,
        warehouse: WarehouseOpt = None,
        fmt: Annotated[str, typer.Option("--format", help="Comma-separated: xlsx,html,csv")] = "xlsx,html,csv",
        out: Annotated[Path | None, typer.Option("--out", help="Output folder [default <warehouse>/reports]")] = None,
    ) -> None:
        """Finance's key-account revenue concentration report for a month (closed figures if closed)."""
        from kam_warehouse.serving.report import concentration_report

        s = _settings(warehouse)
        formats = {f.strip().lower() for f in fmt.split(",") if f.strip()}
        written = concentration_report(s.serving, parse_month(month), out or s.reports_dir, formats,
                                       currency=s.reporting_currency)
        for kind, path in sorted(written.items()):
            typer.echo(f"{kind}: {path}")
