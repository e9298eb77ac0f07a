"""How a `kam` command fails: one paragraph on stderr (plus where the full log is) and exit status 1.

Its own module so the area CLIs (kam_warehouse.serving.cli, ...) that `kam_warehouse.cli` mounts can use
it without importing the CLI that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from kam_warehouse import console
from kam_warehouse.errors import KamError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, *, cause: BaseException | None = None) -> None:
    """Print `kam: <message>` on stderr (plus where the full log is) and exit 1."""
    log = console.last_log_file()
    suffix = f"\n(full log: {log})" if log and str(log) not in message else ""
    typer.secho(f"kam: {message}{suffix}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1) from cause


def fails_cleanly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a KamError into a one-paragraph message on stderr and exit status 1 (KamGroup does the
    same for every command; kept for callers that decorate their commands explicitly)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except KamError as exc:
            fail(str(exc), cause=exc)
            raise  # unreachable: fail() exits

    return wrapper
