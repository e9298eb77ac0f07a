"""The contact-data HMAC key: a production run refuses to start without it; demo/test runs get a
throw-away key; a malformed key is refused with the command that makes a good one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kam_warehouse.errors import ConfigError
from kam_warehouse.settings import ENV_MODE, PII_KEY_ENV, require_pii_key


def test_kam_run_without_a_key_outside_demo_and_test_refuses_to_start(tmp_path: Path) -> None:
    """`kam run` with neither KAM_PII_KEY nor KAM_ENV=demo|test exits 1 naming the variable and how to
    make a key, before it loads anything (no build warehouse is created)."""
    day = tmp_path / "landing" / "billing" / "2025-01-31"
    day.mkdir(parents=True)
    (day / "_SUCCESS").touch()  # a complete (empty) day: the landing check passes, the key check refuses
    env = {k: v for k, v in os.environ.items() if k not in (PII_KEY_ENV, ENV_MODE)}
    proc = subprocess.run([sys.executable, "-m", "kam_warehouse", "run", "--landing", str(tmp_path / "landing"),
                           "--warehouse", str(tmp_path / "wh")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "KAM_PII_KEY is not set" in proc.stderr and "secrets.token_hex(32)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "wh" / "build.duckdb").exists()


def test_demo_and_test_modes_get_a_throwaway_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """KAM_ENV=demo without a key: a fresh 32-byte hex key, exported for dbt in this process."""
    monkeypatch.delenv(PII_KEY_ENV, raising=False)
    monkeypatch.setenv(ENV_MODE, "demo")
    key = require_pii_key()
    assert len(bytes.fromhex(key)) == 32
    assert os.environ[PII_KEY_ENV] == key


@pytest.mark.parametrize("bad", ["secret", "abc", "zz" * 16, "00" * 65])
def test_a_malformed_key_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    """Not hex, or shorter than 16 / longer than 64 bytes: ConfigError, even in demo mode."""
    monkeypatch.setenv(PII_KEY_ENV, bad)
    monkeypatch.setenv(ENV_MODE, "demo")
    with pytest.raises(ConfigError, match="32-128 hex characters"):
        require_pii_key()
