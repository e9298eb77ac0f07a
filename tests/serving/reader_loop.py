"""A BI reader in its own process, looping until STOP_FILE exists; one JSON line per read.

Usage: python reader_loop.py duckdb  SERVING_DB   OUT_FILE STOP_FILE
       python reader_loop.py parquet PARQUET_DIR  OUT_FILE STOP_FILE

duckdb:  open serving.duckdb read-only, read marts.build_stamp and marts._publish_info, close.
parquet: resolve parquet/CURRENT ONCE, then read build_stamp and build_stamp_b from parquet/<build>/
         (the documented pattern, docs/bi.md) — two tables, so a read across a swap would be torn.
Each line: {"ok": true, "run_ids": [...], "rows": n, "checksum": ..., ...} or {"ok": false, "error": "..."}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb


def read_duckdb(serving: Path) -> dict[str, object]:
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "SELECT list(DISTINCT run_id ORDER BY run_id), count(*), sum(hash(payload)) FROM marts.build_stamp"
        ).fetchone()
        info = con.execute("SELECT run_id FROM marts._publish_info").fetchone()
    assert rows is not None and info is not None
    return {"ok": True, "run_ids": rows[0], "rows": rows[1], "checksum": str(rows[2]), "info_run_id": info[0]}


def read_parquet(parquet_dir: Path) -> dict[str, object]:
    build = (parquet_dir / "CURRENT").read_text(encoding="utf-8").strip()  # resolved once
    folder = parquet_dir / build
    with duckdb.connect() as con:
        a = con.execute("SELECT list(DISTINCT run_id ORDER BY run_id), count(*), sum(hash(payload)) "
                        "FROM read_parquet(?)", [str(folder / "build_stamp" / "*.parquet")]).fetchone()
        b = con.execute("SELECT list(DISTINCT run_id ORDER BY run_id), count(*) FROM read_parquet(?)",
                        [str(folder / "build_stamp_b" / "*.parquet")]).fetchone()
    assert a is not None and b is not None
    return {"ok": True, "build": build, "run_ids": a[0], "rows": a[1], "checksum": str(a[2]),
            "run_ids_b": b[0], "rows_b": b[1]}


def main(mode: str, target: Path, out: Path, stop: Path) -> None:
    reader = read_duckdb if mode == "duckdb" else read_parquet
    with out.open("a", encoding="utf-8") as fh:
        while not stop.exists():
            try:
                record = reader(target)
            except Exception as exc:
                record = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            fh.write(json.dumps(record) + "\n")
            fh.flush()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
