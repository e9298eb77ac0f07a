"""The embedded engine's build files: write, audit and read one published DuckDB file, and export its
marts to Parquet. kam_warehouse.serving (copy, builds, parquet_export) drives these; the file layout,
the swap by rename and the served history live there (kam_warehouse.serving.publish).

A build file holds every table and view of `marts` and `ops` of the build warehouse, materialised as
tables, and one row in marts._publish_info."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from kam_warehouse.core.comments import comment_table
from kam_warehouse.core.warehouse.base import WarehouseError
from kam_warehouse.core.warehouse.publishing import (
    OPS_PUBLISH_INFO,
    OPS_PUBLISH_INFO_DOC,
    PUBLISH_INFO,
    PUBLISH_INFO_COLUMNS,
    PUBLISH_INFO_DOC,
    PUBLISHED_SCHEMAS,
    RUN_LOG_COLUMNS,
)
from kam_warehouse.core.warehouse.sql import string_literal

log = logging.getLogger(__name__)

_SRC = "build_src"
_DST = "build_new"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str, str]]:
    """(schema, name, 'table' | 'view') of every table and view of the published schemas in `catalog`,
    tables first."""
    rows = con.execute(
        """
        SELECT schema_name, table_name, 0 AS kind FROM duckdb_tables()
        WHERE database_name = ? AND schema_name IN ('marts', 'ops')
        UNION ALL
        SELECT schema_name, view_name, 1 FROM duckdb_views()
        WHERE database_name = ? AND schema_name IN ('marts', 'ops') AND NOT internal
        ORDER BY kind, schema_name, table_name
        """,
        [catalog, catalog],
    ).fetchall()
    return [(r[0], r[1], "view" if r[2] else "table") for r in rows
            if f"{r[0]}.{r[1]}" not in (PUBLISH_INFO, OPS_PUBLISH_INFO)]


def write_build_file(build_db: Path, target: Path, *, run_id: str, as_of: date | None,
                     on_table: Callable[[str], None] | None = None) -> dict[str, int]:
    """Materialise marts.* and ops.* of `build_db` into the new file `target`; return rows per table.

    The build warehouse is attached read-only under its own catalog name (dbt writes views with
    catalog-qualified references such as "build"."staging"."stg_..."). The target is checkpointed
    and closed before returning, so no .wal remains beside it. `on_table(name)` after each table.
    """
    src = build_db.stem
    counts: dict[str, int] = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH {string_literal(str(build_db))} AS {_q(src)} (READ_ONLY)")
        con.execute(f"ATTACH {string_literal(str(target))} AS {_DST}")
        relations = _relations(con, src)
        comments = _comments(con, src)
        con.execute("BEGIN TRANSACTION")  # one commit for the whole file, not one per table and comment
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_DST}.{schema}")
        for schema, name, kind in relations:
            qualified = f"{schema}.{_q(name)}"
            log.info("publishing %s.%s", schema, name)
            try:
                created = con.execute(
                    f"CREATE TABLE {_DST}.{qualified} AS SELECT * FROM {_q(src)}.{qualified}").fetchone()
            except duckdb.Error as exc:
                raise WarehouseError(
                    f"publish of run {run_id} failed copying {schema}.{name} from {build_db}: {exc}. "
                    "The published serving warehouse is unchanged; fix the model and publish again."
                ) from exc
            relation_doc, column_docs = comments.get((schema, name), (None, {}))
            comment_table(con, f"{_DST}.{qualified}", relation_doc, column_docs)
            # a table's own count (from its metadata); a view's rows are those the copy read from it
            # (counting it again would evaluate the view a second time)
            counts[f"{schema}.{name}"] = (_count(con, f"{_q(src)}.{qualified}") if kind == "table"
                                          else int(created[0]) if created else 0)
            if on_table is not None:
                on_table(f"{schema}.{name}")
        con.execute(
            f"CREATE TABLE {_DST}.{PUBLISH_INFO} AS SELECT ?::VARCHAR AS run_id, ?::TIMESTAMP AS published_at, "
            "?::DATE AS as_of_date, ?::INTEGER AS tables, ?::VARCHAR AS source_file",
            [run_id, datetime.now(UTC).replace(tzinfo=None), as_of, len(counts), str(build_db)],
        )
        comment_table(con, f"{_DST}.{PUBLISH_INFO}", PUBLISH_INFO_DOC, PUBLISH_INFO_COLUMNS)
        con.execute(f"CREATE TABLE {_DST}.{OPS_PUBLISH_INFO} AS SELECT * FROM {_DST}.{PUBLISH_INFO}")
        comment_table(con, f"{_DST}.{OPS_PUBLISH_INFO}", OPS_PUBLISH_INFO_DOC, PUBLISH_INFO_COLUMNS)
        _close_own_publish_row(con, run_id)
        con.execute("COMMIT")
        con.execute(f"CHECKPOINT {_DST}")
        con.execute(f"DETACH {_DST}")
        con.execute(f"DETACH {_q(src)}")
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        raise WarehouseError(f"publish of run {run_id}: {wal} remained after CHECKPOINT; the build file is not final")
    return counts


def _comments(con: duckdb.DuckDBPyConnection, src: str) -> dict[tuple[str, str], tuple[str | None, dict[str, str]]]:
    """CREATE TABLE AS drops comments: the relation's and its columns' comments (dbt persist_docs, Python
    DDL) of every published relation of `src`, read once, to carry over to the published copies so BI
    tools show what each table and column means. (schema, name) -> (relation comment, column -> comment)."""
    out: dict[tuple[str, str], tuple[str | None, dict[str, str]]] = {}
    for schema, name, comment in con.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name IN ('marts', 'ops') UNION ALL SELECT schema_name, view_name, comment FROM duckdb_views() "
        "WHERE database_name = ? AND schema_name IN ('marts', 'ops') AND NOT internal", [src, src],
    ).fetchall():
        out[(schema, name)] = (comment, {})
    for schema, name, column, comment in con.execute(
        "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name IN ('marts', 'ops') AND comment IS NOT NULL AND comment <> '' "
        "ORDER BY schema_name, table_name, column_index", [src],
    ).fetchall():
        out.setdefault((schema, name), (None, {}))[1][column] = comment
    return out


def _close_own_publish_row(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The copied ops.pipeline_runs shows this very publish as `running` (it is in progress while copying).
    Readers only ever see this file once published, so record it there as the success it then is."""
    columns = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'ops' "
        "AND table_name = 'pipeline_runs'", [_DST]
    ).fetchall()}
    if columns >= RUN_LOG_COLUMNS:  # a warehouse without the run log (or an older one) is copied as is
        now = datetime.now(UTC).replace(tzinfo=None)
        con.execute(
            f"UPDATE {_DST}.ops.pipeline_runs SET status = 'success', ended_at = ?, "
            "duration_s = epoch(? - started_at), message = 'published (this build)' "
            "WHERE run_id = ? AND step = 'publish' AND status = 'running'",
            [now, now, run_id],
        )


def audit_build_file(target: Path, expected: dict[str, int], *, run_id: str) -> None:
    """Reopen the written file read-only and check every table is there with the source's row count."""
    with duckdb.connect(str(target), read_only=True) as con:
        for qualified, rows in expected.items():
            schema, name = qualified.split(".", 1)
            try:
                got = _count(con, f"{schema}.{_q(name)}")
            except duckdb.Error as exc:
                raise WarehouseError(f"audit of run {run_id}: {qualified} is missing in {target}: {exc}") from exc
            if got != rows:
                raise WarehouseError(
                    f"audit of run {run_id}: {qualified} has {got} rows in {target} but {rows} in the build "
                    "warehouse; the published serving warehouse is unchanged"
                )


def mart_tables(db_file: Path) -> list[str]:
    """Names of the tables of schema `marts` in a published file."""
    with duckdb.connect(str(db_file), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY table_name"
        ).fetchall()
    return [r[0] for r in rows]


def read_publish_info(db_file: Path) -> tuple | None:
    """(run_id, published_at, as_of_date, tables) of a build file's marts._publish_info; None when the
    file cannot be read as a build."""
    try:
        with duckdb.connect(str(db_file), read_only=True) as con:
            return con.execute(f"SELECT run_id, published_at, as_of_date, tables FROM {PUBLISH_INFO}").fetchone()
    except duckdb.Error:
        return None


#: Parquet key-value metadata of an export: the content fingerprint of the table it holds
CONTENT_KEY = "kam_content"
#: how exports are written; part of the fingerprint, so a changed format is never reused
_PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION snappy"


def content_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """What a Parquet export of `schema.table` holds, as one string: its columns (names and types, in
    order), its row count and the exact (HUGEINT) sum of its rows' 64-bit hashes, with the DuckDB version
    (whose hash it is) and the export options. Equal strings mean the same columns and the same multiset
    of rows (up to a 2^-64 accident); row order is not part of it (nor a promise of any export)."""
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index", [schema, table],
    ).fetchall()
    if not columns:
        raise WarehouseError(f"cannot fingerprint {schema}.{table} for its Parquet export: no such table")
    row_hash = f"hash({', '.join(_q(c) for c, _ in columns)})"
    row = con.execute(f"SELECT count(*), sum({row_hash}::HUGEINT) FROM {_q(schema)}.{_q(table)}").fetchone()
    rows, digest = (int(row[0]), row[1] or 0) if row else (0, 0)
    cols = ",".join(f"{_q(c)} {t}" for c, t in columns)
    return f"v1;duckdb {duckdb.__version__};{_PARQUET_OPTIONS};rows {rows};hash {digest};columns {cols}"


def parquet_fingerprint(con: duckdb.DuckDBPyConnection, file: Path) -> str | None:
    """The content fingerprint an export wrote into `file`; None when it has none or cannot be read."""
    try:
        row = con.execute(f"SELECT value FROM parquet_kv_metadata({string_literal(str(file))}) WHERE key = ?",
                          [CONTENT_KEY.encode()]).fetchone()
    except duckdb.Error:
        return None
    if row is None:
        return None
    value = row[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)


def export_parquet(db_file: Path, out_dir: Path, tables: list[str],
                   on_table: Callable[[str], None] | None = None, *, reuse_from: Path | None = None) -> list[str]:
    """Write each of `tables` of `marts` of a build file to `out_dir/<table>/<table>.parquet`; return the
    tables whose file was reused.

    Every file carries its table's content fingerprint (Parquet key-value metadata `kam_content`).
    When `reuse_from` (an earlier build's export folder, never modified once written) holds a file for a
    table with the same fingerprint, that file is hard-linked (copied where links fail) instead of
    written again: same columns, same rows. Rows are written in no particular order (as a table's rows
    always were: no export promises an order), which lets DuckDB write a file with all its threads."""
    reused: list[str] = []
    with duckdb.connect(str(db_file), read_only=True) as con:
        con.execute("SET preserve_insertion_order = false")
        for table in tables:
            (out_dir / table).mkdir()
            path = out_dir / table / f"{table}.parquet"
            fingerprint = content_fingerprint(con, "marts", table)
            previous = reuse_from / table / f"{table}.parquet" if reuse_from is not None else None
            if previous is not None and previous.is_file() and parquet_fingerprint(con, previous) == fingerprint:
                _link_or_copy(previous, path)
                reused.append(table)
            else:
                con.execute(f"COPY (SELECT * FROM marts.{_q(table)}) TO {string_literal(str(path))} "
                            f"({_PARQUET_OPTIONS}, KV_METADATA {{{CONTENT_KEY}: {string_literal(fingerprint)}}})")
            if on_table is not None:
                on_table(table)
    return reused


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link to `source` (an immutable export file) at `target`; a byte copy where linking fails."""
    try:
        os.link(source, target)
    except OSError as exc:
        log.info("could not hard-link %s (%s); copying it", source, exc)
        shutil.copyfile(source, target)


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return int(row[0]) if row else 0

