"""Write-audit-publish on PostgreSQL: builds are schemas of the serving database, publish is a rename.

The serving database `db` holds:

    marts, ops                 the served build (what BI reads)
    marts__<tag>, ops__<tag>   the other kept builds (rollback targets) and, during a publish, the new one
    kam_publish.builds         one row per staged build: tag, build name, run id, published at, state
    kam_publish.served         the served history (one row per swap: publish | rollback)
    kam_publish.readers        the read-only reader roles every publish grants

1. stage: in one transaction of the serving database, every table and view of the build database's
   `marts` and `ops` (read in one REPEATABLE READ snapshot) becomes a table of `marts__<tag>` /
   `ops__<tag>` with the same column types (format_type) and comments, streamed with binary COPY
   (TO STDOUT from the build database, FROM STDIN into the serving database), plus
   marts._publish_info; the reader roles get USAGE and SELECT on the new schemas (grants are attached
   to the objects, so they survive the renames). A kill inside rolls the transaction back.
2. audit: every staged table has the build's row count; the build is then `ready`.
3. swap: first wait (bounded) for transactions whose snapshot predates the staging commit (a
   REPEATABLE READ reader that has not touched a served table yet would otherwise see the new tables
   without their rows); then ONE transaction locks every served table ACCESS EXCLUSIVE (it waits for readers in the middle
   of a transaction that touched them; lock_timeout short and retried, so a reader never deadlocks with
   it), renames marts/ops to marts__<served tag>/ops__<served tag> and marts__<tag>/ops__<tag> to
   marts/ops, and appends the served history. A reader's transaction sees the old build or the new
   one, never a mix; the history can never disagree with what is served.
4. prune: keep the newest N served builds; a rollback is the same swap back to a kept build.
Recovery (at every start, under the lock): builds staged but never served (a failed or killed
publish) are dropped with their schemas. The lock is a session advisory lock: the server frees it when
the holder's connection dies, kill -9 included.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errorcodes

from kam_warehouse.core.comments import comment_table
from kam_warehouse.core.warehouse.base import WarehouseError
from kam_warehouse.core.warehouse.postgres_engine import PostgresConnection, PostgresWarehouse
from kam_warehouse.core.warehouse.publishing import (
    OPS_PUBLISH_INFO,
    OPS_PUBLISH_INFO_DOC,
    PUBLISH_INFO_COLUMNS,
    PUBLISH_INFO_DOC,
    PUBLISHED_SCHEMAS,
    RUN_LOG_COLUMNS,
    KeptBuild,
    PublishBusy,
    SchemaPublisher,
    ServedRecord,
    StagedBuild,
)

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

META = "kam_publish"
PUBLISH_INFO = "_publish_info"
#: pg_advisory_lock key of the publish lock ("kampubl" in ASCII)
LOCK_KEY = 0x6B616D7075626C
#: how long the swap waits for one lock before it lets readers go and tries again
SWAP_LOCK_TIMEOUT_MS = 250
SWAP_DEADLINE_S = 120.0
#: how long a publish waits for transactions whose snapshot predates the new build (then swaps anyway)
SNAPSHOT_WAIT_S = 60.0
#: COPY data beyond this is spooled to a temporary file, not held in memory
SPOOL_BYTES = 64 * 1024 * 1024
_RETRY_CODES = frozenset({psycopg2.errorcodes.LOCK_NOT_AVAILABLE, psycopg2.errorcodes.DEADLOCK_DETECTED})
_ROLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")

META_DDL: tuple[str, ...] = (
    f"CREATE SCHEMA IF NOT EXISTS {META}",
    f"""CREATE TABLE IF NOT EXISTS {META}.builds (
        tag text PRIMARY KEY, build text NOT NULL, run_id text NOT NULL, published_at timestamp NOT NULL,
        as_of_date date, tables integer, state text NOT NULL, pid integer, host text)""",
    f"""CREATE TABLE IF NOT EXISTS {META}.served (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, build text NOT NULL, tag text NOT NULL,
        run_id text NOT NULL, served_at timestamp NOT NULL, action text NOT NULL)""",
    f"ALTER TABLE {META}.builds ADD COLUMN IF NOT EXISTS staged_xid bigint",
    f"CREATE TABLE IF NOT EXISTS {META}.readers (role text PRIMARY KEY, granted_at timestamp NOT NULL)",
    f"COMMENT ON SCHEMA {META} IS 'kam_warehouse publish bookkeeping: kept builds, served history, reader roles'",
)

def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tag_for(build: str, taken: set[str]) -> str:
    """A schema-safe, unique tag for a build: its name (A-Z a-z 0-9 _) within PostgreSQL's 63-byte
    identifiers (marts__/ops__ + tag), with _2, _3... when a build of that name is still kept."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", build)[:48] or "build"
    tag, n = base, 1
    while tag in taken:
        n += 1
        tag = f"{base}_{n}"
    return tag


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PostgresPublisher(SchemaPublisher):
    def __init__(self, build: PostgresWarehouse, serving: PostgresWarehouse) -> None:
        self.build_wh = build
        self.serving_wh = serving

    # ------------------------------------------------------------------ connections and the lock
    @contextmanager
    def _serving(self) -> Iterator[PostgresConnection]:
        with self.serving_wh.connect() as con:
            yield con

    def describe(self) -> str:
        return f"{self.serving_wh.describe()} (schemas marts, ops)"

    @contextmanager
    def lock(self, *, wait_seconds: float = 60.0) -> Iterator[None]:
        self.serving_wh.create()  # the first publish creates the serving database (C collation)
        con = self.serving_wh.connect()
        try:
            deadline = time.monotonic() + wait_seconds
            while not con.scalar("SELECT pg_try_advisory_lock(?)", [LOCK_KEY]):
                if time.monotonic() >= deadline:
                    holder = con.scalar(
                        "SELECT string_agg(coalesce(a.application_name, '') || ' pid ' || a.pid, ', ') "
                        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                        "AND l.granted AND l.objid = ? AND l.database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database())", [LOCK_KEY & 0xFFFFFFFF])
                    raise PublishBusy(f"busy: a publish or rollback holds the publish lock of {self.describe()} "
                                      f"({holder or 'another session'}); try again when it has finished")
                time.sleep(0.1)
            with self._serving() as meta:
                for statement in META_DDL:
                    meta.execute(statement)
            yield
        finally:
            con.close()  # ends the session: the advisory lock goes with it

    # ------------------------------------------------------------------ bookkeeping
    def _rows(self, con: PostgresConnection, sql: str, params: list[Any] | None = None) -> list[tuple]:
        if not con.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = ?", [META]):
            return []
        return con.execute(sql, params).fetchall()

    def _builds(self, con: PostgresConnection) -> list[KeptBuild]:
        rows = self._rows(con, f"SELECT build, tag, run_id, published_at, as_of_date, tables, state FROM {META}.builds "
                          "ORDER BY published_at, tag")
        return [KeptBuild(*r) for r in rows]

    def _live_tag(self, con: PostgresConnection) -> str | None:
        rows = self._rows(con, f"SELECT tag FROM {META}.served ORDER BY seq DESC LIMIT 1")
        return rows[0][0] if rows else None

    def _schemas(self, con: PostgresConnection) -> set[str]:
        return {r[0] for r in con.execute("SELECT nspname FROM pg_namespace").fetchall()}

    def _schema(self, con: PostgresConnection, tag: str, published: str) -> str:
        return published if tag == self._live_tag(con) else f"{published}__{tag}"

    def history(self) -> list[ServedRecord]:
        with self._serving() as con:
            rows = self._rows(con, f"SELECT build, run_id, served_at, action FROM {META}.served ORDER BY seq")
        return [ServedRecord(*r) for r in rows]

    def served(self) -> KeptBuild | None:
        with self._serving() as con:
            live = self._live_tag(con)
            return next((b for b in self._builds(con) if b.tag == live), None)

    def kept(self) -> list[KeptBuild]:
        with self._serving() as con:
            schemas = self._schemas(con)
            live = self._live_tag(con)
            return [b for b in self._builds(con) if b.state in ("ready", "served")
                    and (b.tag == live or {f"{s}__{b.tag}" for s in PUBLISHED_SCHEMAS} <= schemas)]

    def recover(self) -> list[str]:
        removed: list[str] = []
        with self._serving() as con:
            served_tags = {r[0] for r in self._rows(con, f"SELECT DISTINCT tag FROM {META}.served")}
            for b in self._builds(con):
                if b.tag not in served_tags:
                    log.warning("dropping build %s (schemas *__%s): staged by a publish that failed or was killed "
                                "before serving it", b.build, b.tag)
                    self._drop(con, b.tag)
                    removed.append(b.build)
        return removed

    def _drop(self, con: PostgresConnection, tag: str, *, lock_timeout_ms: int | None = None) -> None:
        with con.transaction():
            if lock_timeout_ms:
                con.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'")
            for published in PUBLISHED_SCHEMAS:
                con.execute(f"DROP SCHEMA IF EXISTS {q(f'{published}__{tag}')} CASCADE")
            con.execute(f"DELETE FROM {META}.builds WHERE tag = ?", [tag])

    def prune(self, *, keep: int) -> list[str]:
        kept = [b for b in self.kept() if b.state == "served"]
        removed: list[str] = []
        with self._serving() as con:
            live = self._live_tag(con)
            for b in kept[: max(len(kept) - keep, 0)]:
                if b.tag == live:
                    continue
                try:
                    self._drop(con, b.tag, lock_timeout_ms=5000)
                except psycopg2.Error as exc:  # a reader still holds one of its tables: the next publish prunes it
                    log.warning("could not drop kept build %s yet (%s); the next publish tries again", b.build,
                                str(exc).strip())
                    continue
                removed.append(b.build)
        return removed

    # ------------------------------------------------------------------ write
    def stage(self, build: str, *, run_id: str, as_of: date | None,
              on_table: Callable[[str], None] | None = None) -> StagedBuild:
        with self._serving() as con:
            taken = {b.tag for b in self._builds(con)} | {
                s.split("__", 1)[1] for s in self._schemas(con) if s.split("__", 1)[0] in PUBLISHED_SCHEMAS
                and "__" in s}
            tag = tag_for(build, taken)
            con.execute(f"INSERT INTO {META}.builds (tag, build, run_id, published_at, as_of_date, state, pid, host) "
                        "VALUES (?, ?, ?, ?, ?, 'staging', ?, ?)",
                        [tag, build, run_id, _now(), as_of, os.getpid(), socket.gethostname()])
            staged = StagedBuild(build=build, tag=tag, run_id=run_id)
            readers = [r[0] for r in con.execute(f"SELECT role FROM {META}.readers ORDER BY role").fetchall()]
            try:
                with self.build_wh.connect(read_only=True) as src:
                    src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")  # one snapshot of the whole build
                    try:
                        with con.transaction():
                            self._copy_all(src, con, staged, on_table)
                            self._publish_info(con, staged, as_of)
                            self._close_own_publish_row(con, staged)
                            for role in readers:
                                self._grant_schemas(con, role, [staged.schema(p) for p in PUBLISHED_SCHEMAS])
                            con.execute(f"UPDATE {META}.builds SET staged_xid = pg_current_xact_id()::text::bigint "
                                        "WHERE tag = ?", [tag])
                    finally:
                        src.execute("ROLLBACK")
            except BaseException as exc:
                try:
                    self._drop(con, tag)  # the transaction left nothing but the bookkeeping row
                except psycopg2.Error:
                    log.warning("could not drop the failed staging of %s; the next start does", build)
                if isinstance(exc, psycopg2.Error):
                    raise WarehouseError(f"publish of run {run_id} into {self.describe()} failed: "
                                         f"{str(exc).strip()}") from exc
                raise
        return staged

    def _copy_all(self, src: PostgresConnection, dst: PostgresConnection, staged: StagedBuild,
                  on_table: Callable[[str], None] | None) -> None:
        src_schemas = self._schemas(src)
        for published in PUBLISHED_SCHEMAS:
            target = staged.schema(published)
            dst.execute(f"CREATE SCHEMA {q(target)}")
            dst.execute(f"COMMENT ON SCHEMA {q(target)} IS ?", [f"kam_warehouse build {staged.build} "
                                                               f"(run {staged.run_id}): {published}"])
            if published not in src_schemas:
                continue
            for name, _kind in src.relations(published):
                if f"{published}.{name}" in (f"marts.{PUBLISH_INFO}", OPS_PUBLISH_INFO):
                    continue
                try:
                    self._copy_relation(src, dst, published, name, target)
                    rows = int(src.scalar(f"SELECT count(*) FROM {q(published)}.{q(name)}"))
                except psycopg2.Error as exc:
                    raise WarehouseError(
                        f"publish of run {staged.run_id} failed copying {published}.{name} from "
                        f"{self.build_wh.describe()}: {str(exc).strip()}") from exc
                staged.counts[f"{published}.{name}"] = rows
                if on_table is not None:
                    on_table(f"{published}.{name}")

    def _copy_relation(self, src: PostgresConnection, dst: PostgresConnection, schema: str, name: str,
                       target: str) -> None:
        columns = column_types(src, schema, name)
        if not columns:
            raise WarehouseError(f"{schema}.{name} of {self.build_wh.describe()} has no columns to publish")
        ddl = ", ".join(f"{q(c)} {t}" for c, t in columns)
        dst.execute(f"CREATE TABLE {q(target)}.{q(name)} ({ddl})")
        select = ", ".join(q(c) for c, _ in columns)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer:
            with src.raw.cursor() as cur:
                cur.copy_expert(f"COPY (SELECT {select} FROM {q(schema)}.{q(name)}) TO STDOUT (FORMAT binary)", buffer)
            buffer.seek(0)
            with dst.raw.cursor() as cur:
                cur.copy_expert(f"COPY {q(target)}.{q(name)} ({select}) FROM STDIN (FORMAT binary)", buffer)
        relation, column_comments = src.comments(schema, name)
        comment_table(dst, f"{q(target)}.{q(name)}", relation, column_comments)

    def _publish_info(self, con: PostgresConnection, staged: StagedBuild, as_of: date | None) -> None:
        table = f"{q(staged.schema('marts'))}.{PUBLISH_INFO}"
        con.execute(f"CREATE TABLE {table} (run_id varchar, published_at timestamp, as_of_date date, tables integer, "
                    "source_file varchar)")
        con.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)",
                    [staged.run_id, _now(), as_of, len(staged.counts), self.build_wh.describe()])
        comment_table(con, table, PUBLISH_INFO_DOC, PUBLISH_INFO_COLUMNS)
        ops_table = f"{q(staged.schema('ops'))}.{OPS_PUBLISH_INFO.split('.', 1)[1]}"
        con.execute(f"CREATE TABLE {ops_table} AS SELECT * FROM {table}")
        comment_table(con, ops_table, OPS_PUBLISH_INFO_DOC, PUBLISH_INFO_COLUMNS)

    def _close_own_publish_row(self, con: PostgresConnection, staged: StagedBuild) -> None:
        """The copied ops.pipeline_runs shows this very publish as `running`; readers only ever see it
        once served, so it is recorded there as the success it then is (as the embedded publish does)."""
        schema = staged.schema("ops")
        if {c for c, _ in con.columns(schema, "pipeline_runs")} >= RUN_LOG_COLUMNS:
            now = _now()
            con.execute(f"UPDATE {q(schema)}.pipeline_runs SET status = 'success', ended_at = ?, duration_s = "
                        f"{con.epoch_seconds('?::timestamp - started_at')}, message = 'published (this build)' "
                        "WHERE run_id = ? AND step = 'publish' AND status = 'running'", [now, now, staged.run_id])

    # ------------------------------------------------------------------ audit
    def audit(self, staged: StagedBuild) -> None:
        with self._serving() as con:
            for qualified, rows in staged.counts.items():
                schema, name = qualified.split(".", 1)
                try:
                    got = int(con.scalar(f"SELECT count(*) FROM {q(staged.schema(schema))}.{q(name)}"))
                except psycopg2.Error as exc:
                    raise WarehouseError(f"audit of run {staged.run_id}: {qualified} is missing in "
                                         f"{staged.schema(schema)} of {self.serving_wh.describe()}: {exc}") from exc
                if got != rows:
                    raise WarehouseError(
                        f"audit of run {staged.run_id}: {qualified} has {got} rows in {staged.schema(schema)} but "
                        f"{rows} in the build database; the served build is unchanged")
            con.execute(f"UPDATE {META}.builds SET state = 'ready', tables = ? WHERE tag = ?",
                        [len(staged.counts), staged.tag])

    # ------------------------------------------------------------------ swap
    def swap(self, tag: str, *, action: str, before_commit: Callable[[], None] | None = None) -> None:
        deadline = time.monotonic() + SWAP_DEADLINE_S
        attempts = 0
        with self._serving() as con:
            row = con.execute(f"SELECT staged_xid FROM {META}.builds WHERE tag = ? AND state = 'ready'", [tag]).fetchone()
            if row is not None and row[0] is not None:
                self._wait_for_older_snapshots(con, int(row[0]))
            while True:
                attempts += 1
                try:
                    with con.transaction():
                        self._swap_once(con, tag, action)
                        if before_commit is not None:
                            before_commit()
                    break
                except psycopg2.Error as exc:
                    if exc.pgcode not in _RETRY_CODES or time.monotonic() > deadline:
                        raise WarehouseError(f"swap of {self.describe()} to build {tag} failed after {attempts} "
                                             f"attempt(s): {str(exc).strip()}") from exc
                    time.sleep(min(0.02 * attempts, 0.5))
        if attempts > 1:
            log.info("swap to %s took %d attempts (readers in transactions held served tables)", tag, attempts)

    def _wait_for_older_snapshots(self, con: PostgresConnection, staged_xid: int) -> None:
        """Before a new build is swapped in: wait (bounded) for every transaction whose snapshot may not
        see the staging commit (backend_xmin <= the staging xid; REPEATABLE READ readers idle in their
        transaction). Such a reader has not touched a served table yet (else the swap's locks would wait
        for it anyway); after the swap it would find the new tables but not their rows."""
        deadline = time.monotonic() + SNAPSHOT_WAIT_S
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
               "AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age((? % 4294967296)::text::xid)")
        waited = False
        while con.scalar(sql, [staged_xid]):
            if time.monotonic() > deadline:
                log.warning("swapping in although a transaction older than the new build is still open after %.0f s: "
                            "it will not see the new build's rows until it ends", SNAPSHOT_WAIT_S)
                return
            waited = True
            time.sleep(0.05)
        if waited:
            log.info("waited for transactions older than the new build before swapping it in")

    def _swap_once(self, con: PostgresConnection, tag: str, action: str) -> None:
        con.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT_MS}ms'")
        con.execute(f"LOCK TABLE {META}.served IN SHARE ROW EXCLUSIVE MODE")
        target = con.execute(f"SELECT build, run_id FROM {META}.builds WHERE tag = ? AND state IN ('ready', 'served')",
                             [tag]).fetchone()
        if target is None:
            raise WarehouseError(f"build {tag} is not staged and audited in {self.serving_wh.describe()}")
        live = self._live_tag(con)
        if live == tag:
            raise WarehouseError(f"build {target[0]} is already served by {self.serving_wh.describe()}")
        schemas = self._schemas(con)
        if live is None and set(PUBLISHED_SCHEMAS) & schemas:
            raise WarehouseError(
                f"{self.serving_wh.describe()} has schemas {', '.join(sorted(set(PUBLISHED_SCHEMAS) & schemas))} that "
                "no kam publish served; rename or drop them (they are not a kam build), then publish again")
        served_tables = [f"{q(s)}.{q(t)}" for s in PUBLISHED_SCHEMAS if s in schemas
                         for t, _ in con.relations(s)]
        if served_tables:  # waits for readers in a transaction over the served build (see module docstring)
            con.execute(f"LOCK TABLE {', '.join(served_tables)} IN ACCESS EXCLUSIVE MODE")
        for published in PUBLISHED_SCHEMAS:
            if live is not None and published in schemas:
                con.execute(f"ALTER SCHEMA {q(published)} RENAME TO {q(f'{published}__{live}')}")
            con.execute(f"ALTER SCHEMA {q(f'{published}__{tag}')} RENAME TO {q(published)}")
        con.execute(f"UPDATE {META}.builds SET state = 'served' WHERE tag = ?", [tag])
        con.execute(f"INSERT INTO {META}.served (build, tag, run_id, served_at, action) VALUES (?, ?, ?, ?, ?)",
                    [target[0], tag, target[1], _now(), action])

    # ------------------------------------------------------------------ read a kept build
    def mart_tables(self, tag: str) -> list[str]:
        with self._serving() as con:
            schema = self._schema(con, tag, "marts")
            return [n for n, _ in con.relations(schema) if n != PUBLISH_INFO]

    def mart_arrow(self, tag: str, table: str) -> pa.Table:
        with self._serving() as con:
            return read_arrow(con, self._schema(con, tag, "marts"), table)

    # ------------------------------------------------------------------ readers
    def readers(self) -> list[str]:
        with self._serving() as con:
            return [r[0] for r in self._rows(con, f"SELECT role FROM {META}.readers ORDER BY role")]

    def grant_reader(self, role: str, *, create: bool = False) -> list[str]:
        if not _ROLE_RE.match(role):
            raise WarehouseError(f"{role!r} is not a role name this command grants (letters, digits, _ $ -)")
        with self.lock(), self._serving() as con:
            if not con.scalar("SELECT count(*) FROM pg_roles WHERE rolname = ?", [role]):
                if not create:
                    raise WarehouseError(f"role {role} does not exist on {self.serving_wh.describe()}: create it "
                                         "(docs/bi.md, scripts/postgres-reader-role.sql) or pass --create")
                con.execute(f"CREATE ROLE {q(role)} NOLOGIN")
            con.execute(f"INSERT INTO {META}.readers VALUES (?, ?) ON CONFLICT (role) DO NOTHING", [role, _now()])
            for database in (self.serving_wh.database, self.build_wh.database):  # only granted roles connect
                if con.scalar("SELECT count(*) FROM pg_database WHERE datname = ?", [database]):
                    con.execute(f"REVOKE CONNECT, TEMPORARY ON DATABASE {q(database)} FROM PUBLIC")
            con.execute(f"GRANT CONNECT ON DATABASE {q(self.serving_wh.database)} TO {q(role)}")
            schemas = sorted(s for s in self._schemas(con)
                             if s in PUBLISHED_SCHEMAS or (s.split("__", 1)[0] in PUBLISHED_SCHEMAS and "__" in s))
            self._grant_schemas(con, role, schemas)
            con.execute(f"ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO {q(role)}")
            con.execute(f"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {q(role)}")
        return schemas

    @staticmethod
    def _grant_schemas(con: PostgresConnection, role: str, schemas: list[str]) -> None:
        for schema in schemas:
            con.execute(f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(role)}")
            con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {q(schema)} TO {q(role)}")


def column_types(con: PostgresConnection, schema: str, name: str) -> list[tuple[str, str]]:
    """(column, full SQL type as format_type prints it, e.g. numeric(18,2)) of a table or view."""
    rows = con.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [schema, name]).fetchall()
    return [(r[0], r[1]) for r in rows]


_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")


def arrow_type(sql_type: str) -> pa.DataType:
    """The Arrow type a PostgreSQL column is exported as (Parquet keeps it)."""
    import pyarrow as pa

    simple = {"smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(), "boolean": pa.bool_(),
              "real": pa.float32(), "double precision": pa.float64(), "date": pa.date32(),
              "timestamp without time zone": pa.timestamp("us"),
              "timestamp with time zone": pa.timestamp("us", tz="UTC")}
    if sql_type in simple:
        return simple[sql_type]
    decimal = _NUMERIC.match(sql_type)
    if decimal and int(decimal[1]) <= 38:
        return pa.decimal128(int(decimal[1]), int(decimal[2]))
    if sql_type == "numeric":
        return pa.float64()
    return pa.string()


def read_arrow(con: PostgresConnection, schema: str, name: str) -> pa.Table:
    """A table as typed Arrow, streamed with COPY ... TO STDOUT (CSV: NULL an unquoted empty field)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    columns = column_types(con, schema, name)
    types = {c: arrow_type(t) for c, t in columns}
    select = ", ".join(f"{q(c)} AT TIME ZONE 'UTC'" if t == "timestamp with time zone" else
                       (f"{q(c)}::text" if types[c] == pa.string() and t not in ("text", "character varying")
                        and not t.startswith("character") else q(c)) for c, t in columns)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as buffer:
        with con.raw.cursor() as cur:
            cur.copy_expert(f"COPY (SELECT {select} FROM {q(schema)}.{q(name)}) TO STDOUT "
                            "(FORMAT csv, FORCE_QUOTE *)", buffer)
        if buffer.tell() == 0:
            return pa.schema([(c, types[c]) for c, _ in columns]).empty_table()
        buffer.seek(0)
        read_types = {c: (pa.timestamp("us") if t == pa.timestamp("us", tz="UTC") else t) for c, t in types.items()}
        table = pacsv.read_csv(
            buffer, read_options=pacsv.ReadOptions(column_names=[c for c, _ in columns]),
            convert_options=pacsv.ConvertOptions(column_types=read_types, strings_can_be_null=True,
                                                 quoted_strings_can_be_null=False, null_values=[""],
                                                 true_values=["t"], false_values=["f"]))
    if any(t != read_types[c] for c, t in types.items()):
        table = table.cast(pa.schema([(c, types[c]) for c, _ in columns]))
    return table

