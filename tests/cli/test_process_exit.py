"""How `kam` ends its process (kam_warehouse.process_exit): the command's exit code, every byte it
wrote, the atexit handlers run, and no "nanobind: leaked" report from DuckDB's bindings at teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kam_warehouse.process_exit import exit_code

#: the imports that make DuckDB 2.0's nanobind bindings report leaked module constants at teardown
LEAK_IMPORTS = "import duckdb, sqlalchemy.orm, jsonschema, duckdb_engine"


def _python(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize(("code", "expected"), [
    (None, (0, None)), (0, (0, None)), (2, (2, None)), ("no such file", (1, "no such file")),
])
def test_exit_code_maps_system_exit_the_way_python_does(code: object, expected: tuple[int, str | None]) -> None:
    assert exit_code(code) == expected


@pytest.mark.parametrize(("raise_", "status", "stderr"), [
    ("pass", 0, ""), ("raise SystemExit(3)", 3, ""), ("raise SystemExit('bad --through')", 1, "bad --through\n"),
])
def test_the_exit_status_and_buffered_output_survive(raise_: str, status: int, stderr: str) -> None:
    run = _python(f"""
        import atexit, sys
        from kam_warehouse.process_exit import run_then_exit
        atexit.register(lambda: sys.stdout.write(" atexit ran"))
        def command():
            sys.stdout.write("no newline, still buffered")
            {raise_}
        run_then_exit(command)
    """)
    assert run.returncode == status, run.stderr
    assert run.stdout == "no newline, still buffered atexit ran"
    assert run.stderr == stderr


def test_no_nanobind_leak_report_after_the_imports_that_trigger_it() -> None:
    plain = _python(f"{LEAK_IMPORTS}\n")
    if "nanobind: leaked" not in plain.stderr:
        pytest.skip("this DuckDB no longer reports leaks at teardown: kam_warehouse.process_exit may be removable")
    ours = _python(f"""
        {LEAK_IMPORTS}
        from kam_warehouse.process_exit import run_then_exit
        run_then_exit(lambda: print("done"))
    """)
    assert ours.returncode == 0
    assert ours.stdout == "done\n"
    assert "nanobind" not in ours.stderr, ours.stderr[:500]


def test_the_kam_console_script_ends_through_process_exit() -> None:
    """`kam` (the installed script) and `python -m kam_warehouse` both end via process_exit.main."""
    from importlib.metadata import entry_points

    (kam,) = [e for e in entry_points(group="console_scripts") if e.name == "kam"]
    assert kam.value == "kam_warehouse.process_exit:main"
    run = subprocess.run([sys.executable, "-m", "kam_warehouse", "--help"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0 and "Usage: kam" in run.stdout, run.stderr
    bad = subprocess.run([sys.executable, "-m", "kam_warehouse", "no-such-command"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "No such command" in bad.stderr
