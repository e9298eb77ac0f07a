"""Every `kam` command, driven with bad arguments and against a busy warehouse: never a traceback.

The commands are enumerated from the typer app itself (a new command is covered without touching this
file). Each is invoked in-process through click, exactly as the `kam` entry point invokes it, with:
an unknown option, its required arguments missing, malformed dates and months (`2025-1`,
`2024-13-01`), and a warehouse folder that holds nothing. The commands that touch the build warehouse
are also run while another process holds it. Every invocation must exit non-zero (or succeed, for the
nothing-there and busy cases where that is a legitimate answer) with a message and without an
exception escaping to the interpreter. A few cases run as real processes to check real stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kam_warehouse import pipeline
from kam_warehouse.cli import app
from kam_warehouse.settings import Settings

#: plausible values for required parameters, so that a case fails on the one thing it gets wrong
PLAUSIBLE = {
    "account_id": "ACC00001", "tier": "key", "reason": "test", "set_by": "tester", "expires_on": "2099-12-31",
    "month": "2025-01", "through": "2025-01-31", "start": "2023-01",
}
#: option names that take a day or a month, and the malformed values each must refuse
DATE_OPTIONS = {"through": ("2025-1-31", "2024-13-01", "2024-02-30", "20250131"),
                "expires_on": ("2025-1-31", "2024-13-01", "tomorrow"),
                "month": ("2025-1", "2024-13", "2025-01-01"),
                "start": ("2025-1", "2024-13")}
#: commands that read or write the build warehouse: refused with "busy" while another process writes it
BUSY_COMMANDS = {("run",), ("load",), ("publish",), ("close",), ("tiers", "explain"), ("tiers", "override"),
                 ("tiers", "overrides")}


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    command: typer.core.TyperCommand  # type: ignore[name-defined]

    @property
    def names(self) -> set[str]:
        return {p.name for p in self.command.params if p.name}

    def required_args(self, overrides: dict[str, str] | None = None) -> list[str]:
        """Plausible values for every required parameter (arguments positional, options by flag)."""
        values = {**PLAUSIBLE, **(overrides or {})}
        args: list[str] = []
        for p in self.command.params:
            if not p.required or p.name is None:
                continue
            value = values.get(p.name, "x")
            args += [value] if p.param_type_name == "argument" else [p.opts[0], value]
        return args


def _commands() -> list[Command]:
    root = typer.main.get_command(app)
    found: list[Command] = []

    def walk(group: object, path: tuple[str, ...]) -> None:
        for name, cmd in sorted(group.commands.items()):  # type: ignore[attr-defined]
            if hasattr(cmd, "commands"):
                walk(cmd, (*path, name))
            else:
                found.append(Command((*path, name), cmd))

    walk(root, ())
    return found


COMMANDS = _commands()
IDS = [" ".join(c.path) for c in COMMANDS]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Landing and warehouse defaults pointing into tmp_path (nothing touches the repo's data/)."""
    monkeypatch.setenv("KAM_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("KAM_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setattr(pipeline, "LOCK_WAIT_SECONDS", 0.5)
    return tmp_path


def _invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None, f"kam {' '.join(args)}: exception escaped: {escaped!r}"
    output = result.output
    assert "Traceback" not in output, f"kam {' '.join(args)} printed a traceback:\n{output}"
    return result.exit_code, output


def _refused(args: list[str]) -> str:
    code, output = _invoke(args)
    assert code != 0, f"kam {' '.join(args)} exited 0 on a bad argument:\n{output}"
    assert output.strip(), f"kam {' '.join(args)} failed without a word"
    return output


def test_commands_are_enumerated() -> None:
    """The enumeration sees the sub-apps' commands too (else the tests below would cover little)."""
    assert {("run",), ("load",), ("tiers", "explain"), ("tiers", "override"), ("report", "concentration")} <= {
        c.path for c in COMMANDS}


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_unknown_option_is_a_usage_error(cmd: Command, isolated: Path) -> None:
    """An unknown option is refused with a usage message, for every command."""
    _refused([*cmd.path, *cmd.required_args(), "--no-such-option"])


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if any(p.required for p in c.command.params)],
                         ids=[i for i, c in zip(IDS, COMMANDS, strict=True) if any(p.required for p in c.command.params)])
def test_missing_required_arguments_are_refused(cmd: Command, isolated: Path) -> None:
    """A command whose required arguments are missing says which, for every command that has any."""
    _refused(list(cmd.path))


def _date_cases() -> Iterator[tuple[Command, str, str]]:
    for c in COMMANDS:
        for name, bad_values in DATE_OPTIONS.items():
            if name in c.names:
                for bad in bad_values:
                    yield c, name, bad


DATE_CASES = list(_date_cases())


@pytest.mark.parametrize(("cmd", "name", "bad"), DATE_CASES,
                         ids=[f"{' '.join(c.path)} {n}={b}" for c, n, b in DATE_CASES])
def test_malformed_dates_and_months_are_refused(cmd: Command, name: str, bad: str, isolated: Path) -> None:
    """Days must be YYYY-MM-DD and months YYYY-MM exactly: `2025-1` or `2024-13-01` is refused with the
    expected form named, never read as some other day and never a ValueError traceback."""
    param = next(p for p in cmd.command.params if p.name == name)
    args = [*cmd.path, *cmd.required_args({name: "__BAD__"})]
    if "__BAD__" in args:
        args[args.index("__BAD__")] = bad
    else:
        args += [param.opts[0], bad]
    output = _refused(args)
    assert "YYYY-MM" in output or "months are 01..12" in output or "calendar date" in output, output


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_empty_warehouse_gets_an_answer_not_a_traceback(cmd: Command, isolated: Path) -> None:
    """Against a warehouse folder that holds nothing (and a landing path that does not exist), every
    command either succeeds or explains itself in a paragraph starting `kam:` or a usage message."""
    if cmd.path in {("dbt",), ("docs",), ("manifest",), ("demo-data",)}:
        pytest.skip("runs dbt or writes extracts: covered by its own tests")
    (isolated / "warehouse").mkdir()
    code, output = _invoke([*cmd.path, *cmd.required_args()])
    if code != 0:
        assert output.lstrip().startswith(("kam:", "Usage:")), output


HOLDER = textwrap.dedent("""
    import sys, duckdb
    from pathlib import Path
    from kam_warehouse.locking import warehouse_lock
    wh = Path(sys.argv[1])
    with warehouse_lock(wh / ".build.lock", owner="test holder"):
        con = duckdb.connect(str(wh / "build.duckdb"))
        con.execute("CREATE TABLE IF NOT EXISTS held (i INTEGER)")
        print("ready", flush=True)
        sys.stdin.read()
""")


@pytest.fixture
def busy_warehouse(isolated: Path) -> Iterator[Path]:
    """A warehouse another process is writing: it holds the write lock and has build.duckdb open."""
    wh = isolated / "warehouse"
    wh.mkdir()
    day = isolated / "landing" / "billing" / "2026-01-01"
    day.mkdir(parents=True)
    (day / "_SUCCESS").touch()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(wh)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    try:
        yield wh
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("path", sorted(BUSY_COMMANDS), ids=[" ".join(p) for p in sorted(BUSY_COMMANDS)])
def test_busy_warehouse_is_one_paragraph(path: tuple[str, ...], busy_warehouse: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """While another process writes the build warehouse, each command that reads or writes it waits a
    bounded time and then says the warehouse is busy (and who holds it), exit 1, no DuckDB traceback."""
    from kam_warehouse.tiers import cli as tiers_cli

    if hasattr(tiers_cli, "OVERRIDE_WAIT_SECONDS"):
        monkeypatch.setattr(tiers_cli, "OVERRIDE_WAIT_SECONDS", 0.5)
    cmd = next(c for c in COMMANDS if c.path == path)
    output = _refused([*cmd.path, *cmd.required_args()])
    assert "busy" in output.lower(), output
    assert Settings.from_env().build_db.exists()


def test_demo_data_without_the_generator_says_where_it_is(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed from the wheel (no sample_extracts beside it), `kam demo-data` explains, no traceback."""
    monkeypatch.setitem(sys.modules, "sample_extracts", None)  # import raises ImportError
    output = _refused(["demo-data", "--out", str(isolated / "landing")])
    assert "sample_extracts" in output and "source checkout" in output
    assert not (isolated / "landing").exists()


def _kam(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kam_warehouse", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_real_process_refusals_have_no_traceback(tmp_path: Path) -> None:
    """As operated (a real `kam` process, stderr as the shell sees it): a malformed --through, a
    missing landing path and an empty one each exit non-zero with one message and no traceback."""
    env = {"KAM_WAREHOUSE_DIR": str(tmp_path / "wh"), "KAM_LANDING_DIR": str(tmp_path / "none")}
    (tmp_path / "empty").mkdir()
    cases = [
        (("load", "--through", "2024-13-01"), 2, "2024-13-01"),
        (("run",), 1, "does not exist"),
        (("run", "--landing", str(tmp_path / "empty")), 1, "holds no extract day folder"),
    ]
    for args, code, needle in cases:
        res = _kam(*args, env=env)
        assert res.returncode == code, (args, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr + res.stdout, res.stderr
        assert needle in res.stderr, res.stderr
        assert "\x1b[" not in res.stderr, "ANSI codes on a pipe"
    assert not (tmp_path / "wh").exists(), "a refused run created the warehouse folder"
