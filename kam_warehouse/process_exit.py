"""End the `kam` process without Python's module teardown, after everything a normal exit runs.

Why: DuckDB 2.0's Python bindings are built with nanobind, which checks at the very end of
interpreter shutdown that every object it created was freed and prints "nanobind: leaked 27
instances! ..." (about 40 lines on stderr) when some were not. After a quality gate (Great
Expectations imports SQLAlchemy's ORM and jsonschema next to duckdb_engine) the teardown order
leaves DuckDB's module-level type constants (`duckdb.sqltypes.BIGINT`, ...) alive, so every
`kam run` ended with that report although nothing leaks while the process runs: the objects are
module constants the operating system reclaims with the process. Reproduced with nothing but
`python -c "import duckdb, sqlalchemy.orm, jsonschema, duckdb_engine"` on the locked versions.

So `kam` ends like this: the atexit handlers run (logging's flush and close, dbt's and GX's
handlers), stdout and stderr are flushed, then `os._exit` with the command's exit code skips the
teardown, the only phase that printed the report. An exit the command did not choose (Ctrl-C, a
crash in the interpreter itself) takes Python's normal path.

tests/cli/test_process_exit.py protects the exit codes and the flushed output;
tests/e2e/test_kam_run.py that a real `kam run` ends quietly.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn


def exit_code(code: object) -> tuple[int, str | None]:
    """SystemExit's code as the process exit status and a message, the way Python itself maps it:
    None -> 0, an int -> itself, anything else -> 1 with the value printed on stderr."""
    if code is None:
        return 0, None
    if isinstance(code, int):
        return code, None
    return 1, str(code)


def finish(code: int) -> NoReturn:
    """Run the atexit handlers, flush stdout and stderr, end the process with `code`."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`kam ... | head`): nothing to say
            stream.flush()
    os._exit(code)


def run_then_exit(command: Callable[[], object]) -> NoReturn:
    """Run a command-line entry point that ends by raising SystemExit (as click/typer apps do)."""
    try:
        command()
        code, message = 0, None
    except SystemExit as exc:
        code, message = exit_code(exc.code)
    if message is not None:
        print(message, file=sys.stderr)
    finish(code)


def main() -> NoReturn:
    """The `kam` console script and `python -m kam_warehouse`."""
    from kam_warehouse.cli import app

    run_then_exit(lambda: app(prog_name="kam"))
