"""A BI reader in its own process: open serving.duckdb read-only, read one table, close, repeat.

Usage: python reader_loop.py SERVING_DB OUT_FILE STOP_FILE
Writes one JSON line per read: {"ok": true, "run_ids": [...], "rows": n, "checksum": ...} or
{"ok": false, "error": "..."}; stops when STOP_FILE exists.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb


def read_once(serving: Path) -> dict[str, object]:
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            rows = con.execute(
                "SELECT list(DISTINCT run_id ORDER BY run_id), count(*), sum(hash(payload)) FROM marts.build_stamp"
            ).fetchone()
            info = con.execute("SELECT run_id FROM marts._publish_info").fetchone()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    assert rows is not None and info is not None
    return {"ok": True, "run_ids": rows[0], "rows": rows[1], "checksum": str(rows[2]), "info_run_id": info[0]}


def main(serving: Path, out: Path, stop: Path) -> None:
    with out.open("a", encoding="utf-8") as fh:
        while not stop.exists():
            fh.write(json.dumps(read_once(serving)) + "\n")
            fh.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
