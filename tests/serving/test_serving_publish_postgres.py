"""Write-audit-publish on PostgreSQL (KAM_WAREHOUSE_URL=postgresql://...): builds are schemas of the
serving database, swapped into marts/ops in one transaction. Readers (as the read-only BI role) looping
over the serving schemas during publishes and rollbacks see no error and no torn read; the BI role
cannot write; failures and rollbacks behave as on DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from kam_warehouse.core.warehouse import connect
from kam_warehouse.core.warehouse.publisher import schema_publisher
from kam_warehouse.serving import builds, history, publish, rollback
from kam_warehouse.serving.errors import PublishError
from kam_warehouse.serving.parquet_export import read_pointer
from kam_warehouse.serving.readers import grant_reader
from kam_warehouse.settings import Settings
from tests.serving.stamped import PostgresStampedBuilds

READER = Path(__file__).with_name("reader_loop.py")
ROLE, LOGIN = "kam_reader", "kam_bi"


@pytest.fixture
def pg(settings: Settings, pg_warehouse_url) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(landing_dir=settings.landing_dir, warehouse_dir=settings.warehouse_dir,
                    config_dir=settings.config_dir, warehouse_url=pg_warehouse_url())


@pytest.fixture
def pg_builds(pg: Settings) -> PostgresStampedBuilds:
    return PostgresStampedBuilds(pg)


def _rows(s: Settings, sql: str, params: list[object] | None = None) -> list[tuple]:
    with connect(s.serving, read_only=True) as con:
        return con.execute(sql, params).fetchall()


def _schemas(s: Settings) -> list[str]:
    return [r[0] for r in _rows(s, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts%' "
                                   "OR nspname LIKE 'ops%' ORDER BY 1")]


def _history(s: Settings) -> list[tuple[str, str]]:
    publisher = schema_publisher(s.build, s.serving)
    assert publisher is not None
    return [(r.build, r.action) for r in publisher.history()]


def _dsn(s: Settings, user: str) -> str:
    w = s.serving
    return f"host={w.host} port={w.port} user={user} dbname={w.database}"  # type: ignore[attr-defined]


def test_publish_copies_tables_and_views_with_types_comments_and_publish_info(
        pg: Settings, pg_builds: PostgresStampedBuilds) -> None:
    """Every table and view of the build's marts/ops is a table of the serving database's marts/ops
    with the same column types and comments, marts._publish_info names the run, parquet/<build>/ is
    exported and CURRENT names it, the served history has the publish."""
    pg_builds.write("run_a")
    result = publish(pg, run_id="run_a")
    assert result.tables == 4 and "schemas marts, ops" in str(result.serving_path)
    kinds = _rows(pg, "SELECT table_schema || '.' || table_name, table_type FROM information_schema.tables "
                      "WHERE table_schema IN ('marts', 'ops') ORDER BY 1")
    assert kinds == [("marts._publish_info", "BASE TABLE"), ("marts.build_stamp", "BASE TABLE"),
                     ("marts.build_stamp_b", "BASE TABLE"), ("marts.numbers_view", "BASE TABLE"),
                     ("ops.pipeline_runs", "BASE TABLE"), ("ops.publish_info", "BASE TABLE")]
    assert _rows(pg, "SELECT sum(sq) FROM marts.numbers_view") == [(91,)]
    assert _rows(pg, "SELECT run_id, tables FROM marts._publish_info") == [("run_a", 4)]
    assert _rows(pg, "SELECT run_id, tables FROM ops.publish_info") == [("run_a", 4)]
    types = dict(_rows(pg, "SELECT column_name, CASE WHEN numeric_precision IS NOT NULL AND data_type = 'numeric' "
                           "THEN data_type || '(' || numeric_precision || ',' || numeric_scale || ')' ELSE data_type END "
                           "FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = 'build_stamp'"))
    assert types == {"run_id": "character varying", "i": "integer", "payload": "text", "amount": "numeric(18,2)",
                     "day": "date"}
    with connect(pg.serving, read_only=True) as con:
        assert con.comments("marts", "build_stamp") == ("Rows stamped with the run that built them.",
                                                        {"amount": "An exact amount."})
    assert read_pointer(pg.parquet_dir) == "run_a"
    import pyarrow.parquet as pq

    exported = pq.read_table(pg.parquet_dir / "run_a" / "build_stamp" / "build_stamp.parquet")
    assert exported.num_rows == pg_builds.stamp_rows("run_a")
    assert str(exported.schema.field("amount").type) == "decimal128(18, 2)"
    assert _history(pg) == [("run_a", "publish")]
    assert _schemas(pg) == ["marts", "ops"]
    info = builds.served_info(pg.serving)
    assert info is not None and (info.run_id, info.tables) == ("run_a", 4)


def test_rollback_keep_n_and_history(pg: Settings, pg_builds: PostgresStampedBuilds) -> None:
    """keep_builds (3) bounds the kept versions (served one included); rollback serves the build served
    before, --to a named kept one, and goes forward again; unknown names list the kept builds."""
    for run_id in ("b0", "b1", "b2", "b3", "b4"):
        pg_builds.publish(run_id)
    assert _schemas(pg) == ["marts", "marts__b2", "marts__b3", "ops", "ops__b2", "ops__b3"]
    assert sorted(p.name for p in pg.parquet_dir.iterdir()) == ["CURRENT", "b2", "b3", "b4"]
    assert rollback(pg).run_id == "b3"
    assert pg_builds.served_run_id() == "b3" and read_pointer(pg.parquet_dir) == "b3"
    assert rollback(pg).run_id == "b2"
    with pytest.raises(PublishError, match="oldest kept"):
        rollback(pg)
    assert rollback(pg, to="b4").run_id == "b4"
    assert pg_builds.served_run_id() == "b4"
    with pytest.raises(PublishError, match="b2, b3, b4"):
        rollback(pg, to="nope")
    assert _history(pg)[-3:] == [("b3", "rollback"), ("b2", "rollback"), ("b4", "rollback")]
    assert [(r.build, r.action) for r in history.served_history(pg)] == _history(pg)
    assert _schemas(pg) == ["marts", "marts__b2", "marts__b3", "ops", "ops__b2", "ops__b3"]


def test_failed_publish_leaves_serving_untouched_and_nothing_staged(pg: Settings,
                                                                    pg_builds: PostgresStampedBuilds) -> None:
    """A view that fails when copied: PublishError naming it; marts/ops still the good build, no
    staged schema or bookkeeping row left, CURRENT unchanged."""
    pg_builds.publish("good")
    with pytest.raises(PublishError, match=r"marts\.zz_broken"):
        pg_builds.publish("bad", broken_view=True)
    assert pg_builds.served_run_id() == "good"
    assert _schemas(pg) == ["marts", "ops"]
    assert _rows(pg, "SELECT build, state FROM kam_publish.builds") == [("good", "served")]
    assert read_pointer(pg.parquet_dir) == "good"
    assert sorted(p.name for p in pg.parquet_dir.iterdir()) == ["CURRENT", "good"]


def test_reader_role_reads_every_build_and_cannot_write(pg: Settings, pg_builds: PostgresStampedBuilds,
                                                        postgres_server) -> None:  # type: ignore[no-untyped-def]
    """grant-reader (a NOLOGIN group role, a BI login its member): the login reads marts and ops after
    later publishes and rollbacks (grants made before each swap), and cannot insert, update, create or
    drop anything, in the serving schemas or elsewhere."""
    pg_builds.publish("g1")
    assert grant_reader(pg, ROLE, create=True) == ["marts", "ops"]
    postgres_server.psql(f"DROP ROLE IF EXISTS {LOGIN}; CREATE ROLE {LOGIN} LOGIN IN ROLE {ROLE}")
    pg_builds.publish("g2")
    pg_builds.publish("g3")
    rollback(pg)
    con = psycopg2.connect(_dsn(pg, LOGIN))
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("SELECT run_id FROM marts._publish_info")
            assert cur.fetchone() == ("g2",)
            cur.execute("SELECT count(*) FROM ops.pipeline_runs")
            assert cur.fetchone() == (1,)
            denied = []
            for sql in ("INSERT INTO marts.build_stamp_b VALUES ('x', 1)", "UPDATE ops.pipeline_runs SET step = 'x'",
                        "DELETE FROM marts.build_stamp", "CREATE TABLE marts.mine (x int)",
                        "CREATE TABLE public.mine (x int)", "CREATE SCHEMA mine", "DROP TABLE marts.build_stamp",
                        "ALTER SCHEMA marts RENAME TO x", "TRUNCATE marts.build_stamp",
                        "INSERT INTO kam_publish.served (build, tag, run_id, served_at, action) "
                        "VALUES ('x', 'x', 'x', now(), 'publish')"):
                try:
                    cur.execute(sql)
                except psycopg2.Error as exc:
                    denied.append(exc.pgcode)
            assert denied == ["42501"] * 10  # insufficient_privilege, every one
    finally:
        con.close()
    with pytest.raises(psycopg2.OperationalError):  # nothing on the build database either
        psycopg2.connect(_dsn(pg, LOGIN).replace(f"dbname={pg.serving.database}",  # type: ignore[attr-defined]
                                                 f"dbname={pg.build.database}")).close()  # type: ignore[attr-defined]


def _reads(out: Path) -> list[dict]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]


def test_readers_during_publishes_and_rollbacks_see_no_error_and_no_torn_read(
        pg: Settings, pg_builds: PostgresStampedBuilds, postgres_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Three BI sessions as the reader role (a REPEATABLE READ transaction, a READ COMMITTED one, single
    statements) read five tables (three marts, two ops) in a loop while 6 publishes and 6 rollbacks swap the schemas: zero
    failed reads, and every read has one build in all four tables with that build's row counts and
    checksum (0 torn)."""
    pg_builds.publish("w0")
    grant_reader(pg, ROLE, create=True)
    postgres_server.psql(f"DROP ROLE IF EXISTS {LOGIN}; CREATE ROLE {LOGIN} LOGIN IN ROLE {ROLE}")
    checksums: dict[str, str] = {}

    def remember() -> None:
        (run_id, checksum), = _rows(pg, "SELECT min(run_id), md5(string_agg(payload, ',' ORDER BY i)) "
                                        "FROM marts.build_stamp")
        checksums[run_id] = checksum

    remember()
    modes = ("postgres-rr", "postgres-rc", "postgres-single")
    readers = []
    for mode in modes:
        out, stop = tmp_path / f"{mode}.jsonl", tmp_path / f"{mode}.stop"
        readers.append((subprocess.Popen([sys.executable, str(READER), mode, _dsn(pg, LOGIN), str(out), str(stop)]),
                        out, stop))
    swaps, started = 0, time.monotonic()
    try:
        for _, out, _ in readers:
            deadline = time.monotonic() + 60
            while not _reads(out) and time.monotonic() < deadline:
                time.sleep(0.05)
        for i in range(1, 7):
            pg_builds.publish(f"w{i}")
            remember()
            rollback(pg)
            remember()
            swaps += 2
        time.sleep(0.3)
    finally:
        for proc, _, stop in readers:
            stop.touch()
            proc.wait(timeout=60)
    elapsed = time.monotonic() - started
    reads = {mode: _reads(out) for mode, (_, out, _) in zip(modes, readers, strict=True)}
    errors = [r for rs in reads.values() for r in rs if not r["ok"]]
    torn = [r for rs in reads.values() for r in rs if r["ok"] and not (
        [r["info_run_id"]] == r["run_ids"] == r["run_ids_b"] == r["ops_run_ids"] == [r["ops_info_run_id"]]
        and r["rows"] == pg_builds.stamp_rows(r["info_run_id"]) and r["rows_b"] == r["rows"] + 1
        and r["checksum"] == checksums[r["info_run_id"]])]
    print(f"\n{swaps} swaps in {elapsed:.1f} s; reads per session: "
          + ", ".join(f"{m} {len(rs)} ({len({r.get('info_run_id') for r in rs})} builds)" for m, rs in reads.items()))
    assert (len(errors), len(torn)) == (0, 0), (errors[:3], torn[:3])
    assert swaps == 12
    for mode, rs in reads.items():
        assert len({r["info_run_id"] for r in rs}) >= 3, f"{mode} never saw the swaps"


def test_publish_without_a_build_database_is_an_actionable_error(pg: Settings, postgres_server) -> None:  # type: ignore[no-untyped-def]
    postgres_server.psql(f'DROP DATABASE "{pg.build.database}" WITH (FORCE)')  # type: ignore[attr-defined]
    with pytest.raises(PublishError, match="kam run"):
        publish(pg, run_id="x")


def test_the_documented_sql_script_sets_up_the_same_reader(pg: Settings, pg_builds: PostgresStampedBuilds,
                                                           postgres_server) -> None:  # type: ignore[no-untyped-def]
    """scripts/postgres-reader-role.sql (what a DBA runs instead of grant-reader): its role reads the
    served build, later publishes grant it before the swap, and it cannot write."""
    from kam_warehouse.settings import REPO_ROOT

    pg_builds.publish("s1")
    db = pg.serving.database  # type: ignore[attr-defined]
    subprocess.run([str(postgres_server.bin_dir / "psql"), "-h", postgres_server.host, "-p", str(postgres_server.port),
                    "-U", postgres_server.user, "-d", db, "-v", "reader=kam_sql_reader", "-v", f"db={db}", "-q",
                    "-f", str(REPO_ROOT / "scripts" / "postgres-reader-role.sql")], check=True, capture_output=True)
    postgres_server.psql("DROP ROLE IF EXISTS kam_sql_bi; CREATE ROLE kam_sql_bi LOGIN IN ROLE kam_sql_reader")
    pg_builds.publish("s2")
    con = psycopg2.connect(_dsn(pg, "kam_sql_bi"))
    try:
        with con.cursor() as cur:
            cur.execute("SELECT run_id FROM marts._publish_info")
            assert cur.fetchone() == ("s2",)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("INSERT INTO ops.pipeline_runs VALUES ('x', 'y')")
    finally:
        con.close()
    assert grant_reader(pg, "kam_sql_reader") == ["marts", "marts__s1", "ops", "ops__s1"]  # idempotent with it


def test_a_prepared_statement_of_a_kept_session_reads_the_new_build(pg: Settings,
                                                                   pg_builds: PostgresStampedBuilds) -> None:
    """BI drivers prepare statements on long-lived connections: after a swap the same prepared
    statement reads the new build (the schema rename invalidates cached plans), never the renamed old one."""
    pg_builds.publish("q1")
    con = psycopg2.connect(_dsn(pg, pg.serving.user))  # type: ignore[attr-defined]
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("PREPARE served AS SELECT min(b.run_id), count(*) FROM marts.build_stamp b "
                        "JOIN marts._publish_info i ON i.run_id = b.run_id")
            cur.execute("EXECUTE served")
            assert cur.fetchone() == ("q1", pg_builds.stamp_rows("q1"))
            pg_builds.publish("q2")
            cur.execute("EXECUTE served")
            assert cur.fetchone() == ("q2", pg_builds.stamp_rows("q2"))
            rollback(pg)
            cur.execute("EXECUTE served")
            assert cur.fetchone() == ("q1", pg_builds.stamp_rows("q1"))
    finally:
        con.close()


def test_a_repeatable_read_transaction_older_than_the_new_build_sees_the_old_build_whole(
        pg: Settings, pg_builds: PostgresStampedBuilds) -> None:
    """A REPEATABLE READ transaction that took its snapshot before the new build was copied, and reads
    the served tables only later: the swap waits for it (it would otherwise find the new tables but not
    their rows), so it reads the old build whole; the publish completes once it ends."""
    import threading

    pg_builds.publish("o1")
    pg_builds.write("o2")
    reader = psycopg2.connect(_dsn(pg, pg.serving.user))  # type: ignore[attr-defined]
    reader.set_session(isolation_level="REPEATABLE READ", readonly=True)
    done: list[str] = []
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT 1")  # the snapshot is taken here, before o2 is copied
            worker = threading.Thread(target=lambda: (publish(pg, run_id="o2"), done.append("o2")))
            worker.start()
            time.sleep(3)  # staged, audited, exported: waiting for this transaction
            cur.execute("SELECT min(run_id), count(*) FROM marts.build_stamp")
            seen = cur.fetchone()
            cur.execute("SELECT run_id FROM ops.publish_info")
            seen_ops = cur.fetchone()
        assert done == []
        reader.rollback()
        worker.join(timeout=120)
    finally:
        reader.close()
    assert seen == ("o1", pg_builds.stamp_rows("o1")) and seen_ops == ("o1",)
    assert done == ["o2"] and pg_builds.served_run_id() == "o2"


def test_parquet_export_keeps_types_nulls_and_empty_strings(pg: Settings) -> None:
    """The Parquet export of a PostgreSQL mart is typed like the column (ints, exact decimals, floats to
    the bit, dates, timestamps, booleans) and keeps NULL apart from the empty string."""
    from kam_warehouse.core.warehouse.postgres_publish import read_arrow, tag_for

    with connect(pg.serving) as con:
        con.execute("CREATE SCHEMA t")
        con.execute("CREATE TABLE t.x (i integer, b bigint, m numeric(18,2), f double precision, d date, "
                    "ts timestamp, tz timestamptz, ok boolean, s text, v varchar(5), a int[])")
        con.execute("INSERT INTO t.x VALUES (1, 9007199254740993, 12.35, 0.1::float8 + 0.2::float8, DATE '2025-11-30', "
                    "TIMESTAMP '2025-12-05 06:00:00.123456', TIMESTAMPTZ '2025-12-05 06:00:00+00', true, '', "
                    "'a,\"b', ARRAY[1, 2]), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
        table = read_arrow(con, "t", "x")  # type: ignore[arg-type]
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {"i": "int32", "b": "int64", "m": "decimal128(18, 2)", "f": "double", "d": "date32[day]",
                     "ts": "timestamp[us]", "tz": "timestamp[us, tz=UTC]", "ok": "bool", "s": "string",
                     "v": "string", "a": "string"}
    first, second = table.to_pylist()
    assert first["b"] == 9007199254740993 and str(first["m"]) == "12.35" and first["f"] == 0.1 + 0.2
    assert first["s"] == "" and first["v"] == 'a,"b' and first["a"] == "{1,2}" and first["ok"] is True
    assert first["ts"].microsecond == 123456 and first["tz"].utcoffset().total_seconds() == 0
    assert set(second.values()) == {None}
    assert tag_for("scheduled__2026-12-02T00:00:00+00:00", set()) == "scheduled__2026_12_02T00_00_00_00_00"
    assert tag_for("b", {"b", "b_2"}) == "b_3" and len(tag_for("x" * 200, set())) <= 48
