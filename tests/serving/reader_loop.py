"""A BI reader in its own process, looping until STOP_FILE exists; one JSON line per read.

Usage: python reader_loop.py duckdb  SERVING_DB   OUT_FILE STOP_FILE
       python reader_loop.py parquet PARQUET_DIR  OUT_FILE STOP_FILE
       python reader_loop.py postgres-rr|postgres-rc|postgres-single DSN OUT_FILE STOP_FILE

duckdb:  open serving.duckdb read-only, read marts.build_stamp and marts._publish_info, close.
parquet: resolve parquet/CURRENT ONCE, then read build_stamp and build_stamp_b from parquet/<build>/
         (the documented pattern, docs/bi.md) — two tables, so a read across a swap would be torn.
postgres-*: one BI session (kept open, like a pool's) on the serving database; each read is one
         transaction over marts._publish_info, marts.build_stamp, marts.build_stamp_b, ops.pipeline_runs and
         ops.publish_info:
         rr = REPEATABLE READ, rc = READ COMMITTED (a new snapshot per statement), single = one statement.
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


STAMP_SQL = "SELECT array_agg(DISTINCT run_id ORDER BY run_id), count(*), md5(string_agg(payload, ',' ORDER BY i)) " \
            "FROM marts.build_stamp"


def postgres_reader(mode: str, dsn: str):  # type: ignore[no-untyped-def]
    import psycopg2

    con = psycopg2.connect(dsn)
    con.autocommit = mode == "postgres-single"
    if mode == "postgres-rr":
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
    elif mode == "postgres-rc":
        con.set_session(isolation_level="READ COMMITTED", readonly=True)

    def read(_target: object) -> dict[str, object]:
        with con.cursor() as cur:
            if mode == "postgres-single":
                cur.execute(f"WITH s AS ({STAMP_SQL}), b AS (SELECT array_agg(DISTINCT run_id ORDER BY run_id), "
                            "count(*) FROM marts.build_stamp_b) SELECT (SELECT run_id FROM marts._publish_info), s.*, "
                            "b.*, (SELECT array_agg(DISTINCT run_id ORDER BY run_id) FROM ops.pipeline_runs), "
                            "(SELECT run_id FROM ops.publish_info) FROM s, b")
                info, run_ids, rows, checksum, run_ids_b, rows_b, ops_ids, ops_info = cur.fetchone()
            else:
                try:
                    cur.execute("SELECT run_id FROM marts._publish_info")
                    (info,) = cur.fetchone()
                    cur.execute(STAMP_SQL)
                    run_ids, rows, checksum = cur.fetchone()
                    cur.execute("SELECT array_agg(DISTINCT run_id ORDER BY run_id), count(*) FROM marts.build_stamp_b")
                    run_ids_b, rows_b = cur.fetchone()
                    cur.execute("SELECT array_agg(DISTINCT run_id ORDER BY run_id) FROM ops.pipeline_runs")
                    (ops_ids,) = cur.fetchone()
                    cur.execute("SELECT run_id FROM ops.publish_info")
                    (ops_info,) = cur.fetchone()
                finally:
                    con.rollback()
        return {"ok": True, "info_run_id": info, "run_ids": run_ids, "rows": rows, "checksum": checksum,
                "run_ids_b": run_ids_b, "rows_b": rows_b, "ops_run_ids": ops_ids, "ops_info_run_id": ops_info}

    return read


def main(mode: str, target: str, out: Path, stop: Path) -> None:
    if mode.startswith("postgres"):
        reader = postgres_reader(mode, target)
    else:
        reader = read_duckdb if mode == "duckdb" else read_parquet  # type: ignore[assignment]
    with out.open("a", encoding="utf-8") as fh:
        while not stop.exists():
            try:
                record = reader(target if mode.startswith("postgres") else Path(target))
            except Exception as exc:
                record = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            fh.write(json.dumps(record) + "\n")
            fh.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
