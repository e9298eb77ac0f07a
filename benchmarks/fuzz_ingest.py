"""Fuzz the ingest loader: mutated extract files through `ingest.load.load_landing`, one day per case.

    .venv/bin/python benchmarks/fuzz_ingest.py --cases 3000 --seed 1

Each case writes one crm and one billing day folder of valid extracts, mutates one or two files
(random bytes, truncation, stray quotes / line breaks, bare CRs, mixed and CR-only line ends, NUL,
wrong encodings, BOMs, duplicate / empty / reordered headers, extra columns, huge quoted fields,
blank lines, corrupt or misnamed workbooks, empty files), loads both days into a fresh warehouse and
checks the books: no exception but `FileRejected`; per loaded file, physical records (counted here
by an independent byte-level state machine) = rows loaded + rows quarantined = rows in raw + rows in
quarantine; a rejected day has nothing in raw and no batch, an applied day has every file loaded;
every rejected regular file has a 0600 copy. Prints cases, crashes, rows lost and book errors
(`tests/ingest/test_fuzz.py` runs the same mutations under hypothesis, a few dozen cases).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import random
import shutil
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingest.errors import FileRejected
from ingest.load import load_landing

DAY = date(2025, 1, 1)
#: cases loaded into one warehouse (one day folder each) before a fresh one is made
CASES_PER_WAREHOUSE = 100
Mutation = Callable[[bytes, random.Random], bytes]

ACCOUNT = ["A{i}", "华为技术有限公司 {i}", "", "", "telecom", "华南", "enterprise", "economic", "王芳", "1500000",
           "true", "2024-01-01T09:00:00", "2024-12-31T09:00:00"]
ACCOUNT_HEADER = ["account_id", "account_name", "parent_account_id", "merged_into_account_id", "industry", "region",
                  "segment", "customer_type", "account_manager", "estimated_annual_budget", "is_reference_customer",
                  "created_at", "updated_at"]
INVOICE_HEADER = ["invoice_id", "account_id", "invoice_date", "due_date", "currency", "status", "updated_at"]
INVOICE = ["I{i}", "A{a}", "2025-01-01", "2025-01-31", "CNY", "issued", "2025-01-01T10:00:00"]
LINE_HEADER = ["invoice_line_id", "invoice_id", "product_code", "description", "quantity", "unit_price", "amount",
               "service_start", "service_end", "updated_at"]
LINE = ["L{i}", "I{a}", "P1", "support, annual {i}", "2", "50.00", "100.00", "2025-01-01", "2025-12-31",
        "2025-01-01T10:00:00"]
PAYMENT_HEADER = ["payment_id", "invoice_id", "account_id", "payment_date", "currency", "amount", "updated_at"]
PAYMENT = ["PAY{i}", "I{a}", "A{a}", "2025-01-05", "CNY", "100.00", "2025-01-05T10:00:00"]


def csv_bytes(header: list[str], template: list[str], n: int, refs: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i in range(1, n + 1):
        w.writerow([v.format(i=i, a=(i - 1) % refs + 1) for v in template])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[str]], blank_rows: int = 0) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for _ in range(blank_rows):
        ws.append([])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------- mutations
def _at(data: bytes, rnd: random.Random) -> int:
    return rnd.randrange(len(data) + 1)


def _insert(piece: bytes) -> Mutation:
    def mutate(data: bytes, rnd: random.Random) -> bytes:
        for _ in range(rnd.randint(1, 3)):
            i = _at(data, rnd)
            data = data[:i] + piece + data[i:]
        return data
    return mutate


def random_bytes(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        i = _at(data, rnd)
        b[i:i + rnd.randint(0, 2)] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
    return bytes(b)


def truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[:_at(data, rnd)]


def mixed_line_ends(data: bytes, rnd: random.Random) -> bytes:
    lines = data.split(b"\n")
    return b"".join(line + (rnd.choice([b"\n", b"\r\n", b"\r"]) if k < len(lines) - 1 else b"")
                    for k, line in enumerate(lines))


def cr_only(data: bytes, rnd: random.Random) -> bytes:
    return data.replace(b"\n", b"\r")


def crlf(data: bytes, rnd: random.Random) -> bytes:
    return data.replace(b"\n", b"\r\n")


def wrong_encoding(data: bytes, rnd: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace").replace("support", "支持服务").replace("华为", "华为集团")
    return text.encode(rnd.choice(["gb18030", "utf-16", "latin-1", "big5"]), errors="replace")


def bom(data: bytes, rnd: random.Random) -> bytes:
    return rnd.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + data


def _header_edit(edit: Callable[[list[str], random.Random], list[str]]) -> Mutation:
    def mutate(data: bytes, rnd: random.Random) -> bytes:
        head, sep, rest = data.partition(b"\n")
        names = head.decode("utf-8", errors="replace").split(",")
        return ",".join(edit(names, rnd)).encode() + sep + rest
    return mutate


def _duplicate(names: list[str], rnd: random.Random) -> list[str]:
    k = rnd.randrange(len(names))
    return [*names[:k], rnd.choice(names), *names[k + 1:]]


def _empty_name(names: list[str], rnd: random.Random) -> list[str]:
    return [*names, ""] if rnd.random() < 0.5 else [("" if k == 0 else n) for k, n in enumerate(names)]


def _case(names: list[str], rnd: random.Random) -> list[str]:
    return [n.upper() if rnd.random() < 0.3 else n for n in names]


def _table_edit(edit: Callable[[list[list[str]], random.Random], list[list[str]]]) -> Mutation:
    def mutate(data: bytes, rnd: random.Random) -> bytes:
        try:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        except (UnicodeDecodeError, csv.Error):
            return data
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(edit(rows, rnd))
        return out.getvalue().encode("utf-8")
    return mutate


def _reorder(rows: list[list[str]], rnd: random.Random) -> list[list[str]]:
    order = list(range(len(rows[0]))) if rows else []
    rnd.shuffle(order)
    return [[r[k] if k < len(r) else "" for k in order] for r in rows]


def _extra_column(rows: list[list[str]], rnd: random.Random) -> list[list[str]]:
    return [[*r, "loyalty" if k == 0 else f"x{k}"] for k, r in enumerate(rows)]


def _huge_field(rows: list[list[str]], rnd: random.Random) -> list[list[str]]:
    if len(rows) < 3:
        return rows
    k = rnd.randrange(1, len(rows) - 1)
    big = "," * rnd.choice([70_000, 300_000, 2_500_000])
    rows = [list(r) for r in rows]
    rows[k][min(3, len(rows[k]) - 1)] = big
    rows[k + 1] = rows[k + 1][: rnd.randint(1, max(1, len(rows[k + 1]) - 1))]  # the next row short
    return rows


def quoted_break(data: bytes, rnd: random.Random) -> bytes:
    return data.replace(b'"support, annual 2"', rnd.choice([b'"support,\nannual"', b'"a\r\nb"', b'"x\rx"']), 1)


def blank_lines(data: bytes, rnd: random.Random) -> bytes:
    return _insert(b"\n")(data, rnd) if b"\n" in data else data + b"\n\n"


MUTATIONS: dict[str, Mutation] = {
    "random_bytes": random_bytes,
    "truncate": truncate,
    "stray_quote": _insert(b'"'),
    "stray_newline": _insert(b"\n"),
    "bare_cr": _insert(b"\r"),
    "stray_crlf": _insert(b"\r\n"),
    "mixed_line_ends": mixed_line_ends,
    "cr_only": cr_only,
    "crlf": crlf,
    "nul": _insert(b"\x00"),
    "wrong_encoding": wrong_encoding,
    "bom": bom,
    "duplicate_header": _header_edit(_duplicate),
    "empty_header": _header_edit(_empty_name),
    "header_case": _header_edit(_case),
    "reordered_header": _table_edit(_reorder),
    "extra_column": _table_edit(_extra_column),
    "huge_quoted_field": _table_edit(_huge_field),
    "quoted_break": quoted_break,
    "blank_lines": blank_lines,
    "empty_file": lambda data, rnd: b"",
    "header_only": lambda data, rnd: data.split(b"\n", 1)[0] + b"\n",
}
WORKBOOK_MUTATIONS = ("truncate", "random_bytes", "csv_as_xlsx", "header_row_3", "valid")


def mutate_workbook(kind: str, rnd: random.Random, rows: list[list[str]]) -> bytes:
    if kind == "csv_as_xlsx":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue().encode()
    data = xlsx_bytes(rows, blank_rows=2 if kind == "header_row_3" else 0)
    if kind == "truncate":
        return truncate(data, rnd)
    if kind == "random_bytes":
        return random_bytes(data, rnd)
    return data


# ------------------------------------------------------------------------------------------- one case
@dataclass
class Case:
    """The files of one case's two day folders and what was done to them."""

    files: dict[str, bytes] = field(default_factory=dict)  # "<source>/<name>" -> bytes
    mutations: list[str] = field(default_factory=list)


def make_case(rnd: random.Random, picks: list[tuple[str, str]] | None = None) -> Case:
    """Valid files for crm + billing, then 1-2 mutations (`picks`: (file, mutation) to use instead)."""
    n = rnd.randint(3, 40)
    accounts = [ACCOUNT_HEADER] + [[v.format(i=i) for v in ACCOUNT] for i in range(1, 4)]
    case = Case()
    workbook = rnd.random() < 0.15
    if workbook:
        kind = rnd.choice(WORKBOOK_MUTATIONS)
        case.files["crm/accounts.xlsx"] = mutate_workbook(kind, rnd, accounts)
        case.mutations.append(f"crm/accounts.xlsx:{kind}")
    else:
        case.files["crm/accounts.csv"] = csv_bytes(ACCOUNT_HEADER, ACCOUNT, 3, 3)
    case.files["billing/invoices.csv"] = csv_bytes(INVOICE_HEADER, INVOICE, max(2, n // 4), 3)
    case.files["billing/invoice_lines.csv"] = csv_bytes(LINE_HEADER, LINE, n, max(2, n // 4))
    case.files["billing/payments.csv"] = csv_bytes(PAYMENT_HEADER, PAYMENT, max(1, n // 8), max(2, n // 4))
    csv_files = [f for f in case.files if f.endswith(".csv")]
    if picks is None:
        picks = [(rnd.choice(csv_files), rnd.choice(list(MUTATIONS))) for _ in range(rnd.randint(0 if workbook else 1, 2))]
    for name, mutation in picks:
        if name not in case.files:  # accounts came as a workbook in this case
            continue
        case.files[name] = MUTATIONS[mutation](case.files[name], rnd)
        case.mutations.append(f"{name}:{mutation}")
    return case


def oracle_records(data: bytes) -> int:
    """Data records of a CSV file (header excluded), by a byte-at-a-time RFC 4180 state machine that
    shares no code with ingest: line ends LF / CRLF / CR, a quote opens a field only at its start,
    `""` inside quotes is a quote, blank lines are no records."""
    records, size, i, n = 0, 0, 0, len(data)
    quoted, field_start = False, True
    while i < n:
        b = data[i]
        if quoted:
            if b == 0x22:
                if i + 1 < n and data[i + 1] == 0x22:
                    i, size = i + 2, size + 2
                    continue
                quoted = False
        elif b in (0x0A, 0x0D):
            if b == 0x0D and i + 1 < n and data[i + 1] == 0x0A:
                i += 1
            records += size > 0
            size, field_start, i = 0, True, i + 1
            continue
        elif b == 0x22 and field_start:
            quoted = True
        field_start = b == 0x2C and not quoted
        size, i = size + 1, i + 1
    records += size > 0
    return max(records - 1, 0)


@dataclass
class Outcome:
    crashed: str | None = None  # exception class and place when the load raised anything but FileRejected
    rows_lost: int = 0  # |physical records - (loaded + quarantined)| over loaded files
    errors: list[str] = field(default_factory=list)  # broken books / half-applied days / missing copies


def run_case(case: Case, workdir: Path, day: date = DAY, db: Path | None = None) -> Outcome:
    """Write the case's day folders (for `day`) under `workdir`, load them into `db` (default: a file in
    `workdir`), check the books, then remove the folders (a warehouse may take many cases, one day each)."""
    landing, rejected = workdir / "landing", workdir / "rejected"
    db = db or workdir / "build.duckdb"
    for name, data in case.files.items():
        source, file = name.split("/")
        folder = landing / source / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file).write_bytes(data)
        (folder / "_SUCCESS").write_bytes(b"")
    outcome = Outcome()
    try:
        load_landing(landing, db, run_id="fuzz", rejected_dir=rejected)
    except FileRejected:
        pass
    except Exception as exc:  # the loader must never raise anything else: that is the crash we count
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        outcome.crashed = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
    if outcome.crashed is None:
        check_books(case, db, rejected, outcome, day)
    for source in ("crm", "billing"):
        shutil.rmtree(landing / source / day.isoformat(), ignore_errors=True)
    return outcome


def check_books(case: Case, db: Path, rejected: Path, outcome: Outcome, day: date) -> None:
    with duckdb.connect(str(db), read_only=not str(db).startswith(":memory:")) as con:
        manifest = {r[0]: r[1:] for r in con.execute(
            "SELECT file_path, status, rows_read, rows_loaded, rows_quarantined, entity FROM raw.load_manifest "
            "WHERE extract_day = ?", [day]).fetchall()}
        batches = {r[0] for r in con.execute(
            "SELECT source FROM raw.load_batches WHERE extract_day = ?", [day]).fetchall()}
        for name, data in case.files.items():
            source, file = name.split("/")
            rel = f"{source}/{day.isoformat()}/{file}"
            source_rejected = any(k.startswith(f"{source}/") and v[0] == "rejected" for k, v in manifest.items())
            if rel not in manifest:
                if source in batches or not source_rejected:
                    outcome.errors.append(f"{rel}: no manifest row")
                continue
            status, read, loaded, quarantined, entity = manifest[rel]
            if status == "rejected":
                copy = rejected / source / day.isoformat() / file
                if not copy.is_file() or copy.stat().st_mode & 0o777 != 0o600:
                    outcome.errors.append(f"{rel}: rejected without a 0600 copy")
                continue
            in_raw = con.execute(f"SELECT count(*) FROM raw.{source}__{entity} WHERE _source_file = ?", [rel]).fetchone()
            in_q = con.execute("SELECT count(*) FROM raw.quarantine WHERE file_path = ?", [rel]).fetchone()
            if read != loaded + quarantined or (in_raw and in_raw[0]) != loaded or (in_q and in_q[0]) != quarantined:
                outcome.errors.append(f"{rel}: read {read}, loaded {loaded} (raw {in_raw}), quarantined {quarantined} "
                                      f"(quarantine {in_q})")
            if file.endswith(".csv"):
                physical = oracle_records(data)
                outcome.rows_lost += abs(physical - (loaded + quarantined))
                if physical != read:
                    outcome.errors.append(f"{rel}: {physical} physical records, manifest says {read} read")
        for source in ("crm", "billing"):
            rejected_any = any(k.startswith(f"{source}/") and v[0] == "rejected" for k, v in manifest.items())
            loaded_any = any(k.startswith(f"{source}/") and v[0] == "loaded" for k, v in manifest.items())
            if rejected_any and (source in batches or loaded_any):
                outcome.errors.append(f"{source}: half-applied day (a file rejected, the day applied)")
            if not rejected_any and source not in batches:
                outcome.errors.append(f"{source}: day neither applied nor rejected")


def run_shard(seed: int, cases: range) -> list[tuple[int, list[str], Outcome]]:
    """Run cases `cases` (case k is made from Random(f"{seed}:{k}"), whatever the shard), into named
    in-memory warehouses (kept alive by an open connection; no fsync per case: the loader's code path is
    the same, `tests/ingest/test_fuzz.py` loads into warehouse files)."""
    logging.disable(logging.CRITICAL)  # rejections are expected here; the counts are the output
    results = []
    for first in range(0, len(cases), CASES_PER_WAREHOUSE):  # a fresh warehouse now and then keeps loads small
        db = Path(f":memory:fuzz{cases[first]}")
        with tempfile.TemporaryDirectory(prefix="kam-fuzz-") as tmp, duckdb.connect(str(db)):
            for n, k in enumerate(cases[first:first + CASES_PER_WAREHOUSE]):
                case = make_case(random.Random(f"{seed}:{k}"))
                outcome = run_case(case, Path(tmp), DAY + timedelta(days=n), db)
                results.append((k, case.mutations, outcome))
        print(f"  ... shard from case {cases[0]}: {len(results)} cases, "
              f"{sum(bool(o.crashed) for _, _, o in results)} crashes, {sum(o.rows_lost for _, _, o in results)} "
              f"rows lost, {sum(bool(o.errors) for _, _, o in results)} with book errors", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (cases are split between them)")
    parser.add_argument("--show", type=int, default=10, help="failing cases to print")
    args = parser.parse_args()
    start = time.perf_counter()
    shards = [range(j, args.cases, args.jobs) for j in range(args.jobs)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = [r for shard in pool.map(run_shard, [args.seed] * args.jobs, shards) for r in shard]
    elapsed = time.perf_counter() - start
    crashes = Counter(o.crashed for _, _, o in results if o.crashed)
    failing = sorted((k, m, o) for k, m, o in results if o.crashed or o.errors)
    for k, mutations, o in failing[: args.show]:
        print(f"case {k}: {mutations}: {o.crashed or o.errors}")
    per_mutation = Counter(m.split(":")[1] for _, mutations, _ in results for m in mutations)
    print(f"cases        : {len(results)} (seed {args.seed}, {args.jobs} job(s), {elapsed:.0f} s, "
          f"{len(results) / elapsed:.1f} cases/s)")
    print(f"crashes      : {sum(crashes.values())}" + "".join(f"\n  {n} x {c}" for c, n in crashes.most_common()))
    print(f"rows lost    : {sum(o.rows_lost for _, _, o in results)}")
    print(f"book errors  : {sum(bool(o.errors) for _, _, o in results)} case(s) with broken books, a half-applied "
          "day or a missing copy")
    print("mutations    : " + ", ".join(f"{m} {n}" for m, n in sorted(per_mutation.items())))


if __name__ == "__main__":
    main()
