"""Where `kam` output goes: one line per step on the terminal, every log line in a file.

Quiet by default: the console shows warnings and errors only (plus what the commands echo); dbt's full
log (INFO and up), Great Expectations' warnings and the steps' progress lines go to a log file under the
warehouse folder (`<warehouse>/logs/`), whose path the command prints. GX's own INFO lines are left out
of it: they are its internals talking ("Skipping registering function ...", "_get_default_value called
with key ..."), some 300 per gate, burying the lines an operator reads; our GX runner logs what it ran. `--verbose` also streams them
to stderr. Nothing here writes ANSI colour codes; dbt is invoked without colours (kam_warehouse.dbt).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOG_DIR_NAME = "logs"
#: run log files kept per warehouse (older ones are deleted when a new one is opened)
KEEP_LOG_FILES = 50
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

progress_log = logging.getLogger("kam.progress")
#: kam_warehouse.dbt forwards dbt's events to this logger
DBT_LOGGER = "kam.dbt"
#: loggers whose INFO lines are library chatter, kept out of the run log (their warnings still go in)
CHATTY_LOGGERS = ("great_expectations",)


def _not_chatter(record: logging.LogRecord) -> bool:
    if record.levelno > logging.INFO:
        return True
    return not any(record.name == name or record.name.startswith(name + ".") for name in CHATTY_LOGGERS)


class _ConsoleFormatter(logging.Formatter):
    """INFO lines as they are (dbt's own lines, progress); warnings and errors prefixed with their level."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno <= logging.INFO:
            return message
        return f"{record.levelname.lower()}: {record.name}: {message}"


class _KamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handlers installed here, so configuring twice (tests, nested calls) replaces them."""


class _KamFileHandler(logging.FileHandler):
    pass


_active_log_file: Path | None = None
#: the log file of the last command that failed while it had one open (the failure message points at it)
_failed_log_file: Path | None = None


def configure(verbose: bool) -> None:
    """Console logging for one `kam` invocation: WARNING and up, or INFO and up with --verbose."""
    global _failed_log_file
    _failed_log_file = None
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _KamHandler)]:
        root.removeHandler(handler)
    console = _KamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(_ConsoleFormatter())
    if not verbose:  # dbt's warnings (e.g. a warn-severity test) are counted in the step line; details in the file
        console.addFilter(lambda record: not record.name.startswith(DBT_LOGGER))
    root.addHandler(console)
    # the root logger passes INFO on, so that the log file gets it; the handlers decide what shows where
    root.setLevel(logging.INFO)


def stream_dbt_to_stdout() -> None:
    """For `kam dbt ...`: dbt's own lines (INFO and up) are the command's output, on stdout as dbt prints them."""
    root = logging.getLogger()
    out = _KamHandler(sys.stdout)
    out.setLevel(logging.INFO)
    out.setFormatter(logging.Formatter("%(message)s"))
    out.addFilter(lambda record: record.name.startswith(DBT_LOGGER))
    root.addHandler(out)


def progress(message: str) -> None:
    """A step's progress detail (one file loaded, dbt started): in the log file; on stderr with --verbose."""
    progress_log.info(message)


def log_dir(warehouse_dir: Path) -> Path:
    return warehouse_dir / LOG_DIR_NAME


@contextmanager
def log_file(warehouse_dir: Path, name: str) -> Iterator[Path]:
    """Send every log record (INFO and up) to `<warehouse>/logs/<name>.log` while the block runs."""
    global _active_log_file, _failed_log_file
    folder = log_dir(warehouse_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    path = folder / f"{name}.log"
    handler = _KamFileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    handler.addFilter(_not_chatter)
    root = logging.getLogger()
    root.addHandler(handler)
    previous, _active_log_file = _active_log_file, path
    try:
        yield path
    except BaseException as exc:
        logging.getLogger("kam").error("failed: %s: %s", type(exc).__name__, exc)
        _failed_log_file = path
        raise
    finally:
        _active_log_file = previous
        root.removeHandler(handler)
        handler.close()


def active_log_file() -> Path | None:
    """The log file of the running command, if it opened one."""
    return _active_log_file


def last_log_file() -> Path | None:
    """The log file open when the running command failed (or the one still open)."""
    return _active_log_file or _failed_log_file


def record_crash(exc: BaseException) -> Path:
    """Write an unexpected exception's traceback to the active log file (or a new file in the temp
    folder) and return where it is: the console gets one paragraph, the traceback is kept for a bug report."""
    import tempfile

    text = "".join(traceback.format_exception(exc))
    path = _active_log_file or _failed_log_file
    if path is None:
        path = Path(tempfile.gettempdir()) / f"kam-error-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.log"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{datetime.now(UTC).isoformat()} unexpected error:\n{text}")
    return path


def _prune(folder: Path) -> None:
    logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[: max(0, len(logs) - KEEP_LOG_FILES + 1)]:
        old.unlink(missing_ok=True)
