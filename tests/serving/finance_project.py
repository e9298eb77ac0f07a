"""A tmp copy of the dbt project holding the real finance models, the real sources and macros, and
stub concentration / account marts that read tables the test writes (schema test_input). Lets the
finance models run through real dbt without building the whole warehouse.

The stub figures follow the exact definitions (kam-domain.md), computed here in Python from a list of
(account id, name, revenue): the group level has one group per account, t12m is 12 x the month."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from ingest.schema import ensure_raw_schema
from kam_warehouse.serving.close import comparison_months
from kam_warehouse.settings import DBT_PROJECT_DIR

METRICS = ("active_count", "total_revenue", "top_20pct_count", "top_20pct_share", "top_10_share",
           "count_for_80pct", "hhi", "gini", "max_share")
STUBS = ("mart_revenue_concentration_monthly", "mart_revenue_concentration_by_segment", "mart_revenue_lorenz",
         "dim_account")
Account = tuple[str, str, float]
ACCOUNTS: tuple[Account, ...] = (
    ("A1", "华为技术有限公司", 5_000_000.25), ("A2", "中国平安保险(集团)股份有限公司", 2_500_000.10),
    ("A3", "Acme GmbH", 900_000.0), ("A4", "小米科技", 400_000.0), ("A5", "Globex Ltd", 200_000.0),
)


def make_project(root: Path) -> Path:
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR / "macros", project / "macros")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT_DIR / name, project / name)
    for sub in ("staging/billing", "staging/crm"):
        (project / "models" / sub).mkdir(parents=True)
        for yml in (DBT_PROJECT_DIR / "models" / sub).glob("_*__sources.yml"):
            shutil.copy(yml, project / "models" / sub / yml.name)
    shutil.copytree(DBT_PROJECT_DIR / "models/marts/finance", project / "models/marts/finance")
    for docs in (DBT_PROJECT_DIR / "models").glob("*.md"):  # shared {% docs %} blocks the ymls refer to
        shutil.copy(docs, project / "models" / docs.name)
    stubs = project / "models/marts/stubs"
    stubs.mkdir(parents=True)
    for mart in STUBS:
        # views: a test changes test_input and the finance models see it without another dbt build
        (stubs / f"{mart}.sql").write_text(f"{{{{ config(materialized='view') }}}}\nselect * from test_input.{mart}\n")
    # the ranks the entity list is read from (int_concentration_ranked), derived from the Lorenz stub: the
    # Lorenz points are the ascending ranks
    (stubs / "int_concentration_ranked.sql").write_text(RANKED_STUB)
    return project


RANKED_STUB = """{{ config(materialized='view') }}
select revenue_month, level, "window" as time_window, 'unknown' as segment, entity_id, revenue as value,
    count(*) over w as active_count, sum(revenue) over w as total_value, point as rank_asc,
    sum(revenue) over (w order by point rows between unbounded preceding and current row) as cumulative_asc
from test_input.mart_revenue_lorenz
window w as (partition by revenue_month, level, "window")
"""


_TEMPLATE: list[tuple[Path, Path]] = []
TEMPLATE_MONTH = date(2025, 11, 1)


def built_copy(target_db: Path, tmp_factory: object) -> Path:
    """Copy a built warehouse into `target_db` (named build.duckdb: dbt's views name the catalog `build`)
    and return its dbt project. The finance project is built once per test session, over November's
    stub inputs; the stubs are views, so a test's own write_inputs needs no new build."""
    if not _TEMPLATE:
        root = tmp_factory.mktemp("finance_dbt")  # type: ignore[attr-defined]
        db = root / "template" / "build.duckdb"
        db.parent.mkdir()
        write_inputs(db, month=TEMPLATE_MONTH, as_of=date(2025, 12, 3))
        project = make_project(root)
        dbt_build(project, db)
        _TEMPLATE.append((project, db))
    project, db = _TEMPLATE[0]
    target_db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, target_db)
    return project


def figures(revenues: Sequence[float]) -> dict[str, float]:
    """The concentration figures of kam-domain.md "Exact definitions" for one window."""
    active = sorted((r for r in revenues if r > 0), reverse=True)
    n, total = len(active), sum(active)
    k = math.ceil(0.2 * n)
    running, count80 = 0.0, n
    for i, r in enumerate(active, start=1):
        running += r
        if running >= 0.8 * total * (1 - 1e-12):
            count80 = i
            break
    ascending = active[::-1]
    gini = 0.0 if n == 1 else sum((2 * i - n - 1) * x for i, x in enumerate(ascending, start=1)) / (n * total)
    return {"active_count": n, "total_revenue": total, "top_20pct_count": k,
            "top_20pct_share": sum(active[:k]) / total, "top_10_share": sum(active[:10]) / total,
            "count_for_80pct": count80, "hhi": sum((100 * r / total) ** 2 for r in active), "gini": gini,
            "max_share": active[0] / total}


def _month_rows(month: date, accounts: Sequence[Account]) -> tuple[list[tuple], list[tuple]]:
    """(concentration rows, lorenz rows) of one month: both levels, both windows."""
    conc, lorenz = [], []
    for level in ("account", "group"):
        for window, factor in (("month", 1.0), ("t12m", 12.0)):
            values = [(a, r * factor) for a, _, r in accounts if r > 0]
            f = figures([v for _, v in values])
            conc.append((month, level, window, *(f[m] for m in METRICS)))
            total = sum(v for _, v in values)
            running = 0.0
            for point, (entity, value) in enumerate(sorted(values, key=lambda x: (x[1], x[0])), start=1):
                running += value
                lorenz.append((month, level, window, point, entity, value, point / len(values), running / total))
    return conc, lorenz


def write_inputs(db: Path, *, month: date, as_of: date, accounts: Sequence[Account] = ACCOUNTS,
                 comparisons: bool = True) -> None:
    """Stub marts for `month` (and, with `comparisons`, the month before at 90% and a year before at 80%
    of each account's revenue) + the raw schema with a manifest saying extracts are loaded through `as_of`."""
    previous, year_before = comparison_months(month)
    months = [(month, 1.0)] + ([(previous, 0.9), (year_before, 0.8)] if comparisons else [])
    conc, lorenz = [], []
    for m, scale in months:
        c, lz = _month_rows(m, [(a, n, r * scale) for a, n, r in accounts])
        conc += c
        lorenz += lz
    metric_cols = ", ".join(f"{m} DOUBLE" for m in METRICS)
    with duckdb.connect(str(db)) as con:
        ensure_raw_schema(con)
        con.execute("CREATE SCHEMA IF NOT EXISTS test_input")
        con.execute(f"CREATE OR REPLACE TABLE test_input.mart_revenue_concentration_monthly (revenue_month DATE, "
                    f"level VARCHAR, \"window\" VARCHAR, {metric_cols})")
        con.executemany(f"INSERT INTO test_input.mart_revenue_concentration_monthly VALUES "
                        f"({', '.join('?' * (3 + len(METRICS)))})", conc)
        con.execute("CREATE OR REPLACE TABLE test_input.mart_revenue_concentration_by_segment AS "
                    "SELECT revenue_month, level, \"window\", 'enterprise' AS segment, * EXCLUDE (revenue_month, level, "
                    "\"window\") FROM test_input.mart_revenue_concentration_monthly")
        con.execute("CREATE OR REPLACE TABLE test_input.mart_revenue_lorenz (revenue_month DATE, level VARCHAR, "
                    "\"window\" VARCHAR, point INTEGER, entity_id VARCHAR, revenue DOUBLE, "
                    "cumulative_entity_share DOUBLE, cumulative_revenue_share DOUBLE)")
        con.executemany("INSERT INTO test_input.mart_revenue_lorenz VALUES (?, ?, ?, ?, ?, ?, ?, ?)", lorenz)
        con.execute("CREATE OR REPLACE TABLE test_input.dim_account (account_id VARCHAR, account_name VARCHAR, "
                    "segment VARCHAR, customer_type VARCHAR, tier VARCHAR)")
        con.executemany("INSERT INTO test_input.dim_account VALUES (?, ?, 'enterprise', 'economic', 'key')",
                        [(a, n) for a, n, _ in accounts])
        con.execute("DELETE FROM raw.load_manifest")
        con.execute(
            "INSERT INTO raw.load_manifest VALUES ('billing/x/invoices.csv', 'billing', 'invoices', ?, 1, 'h', 0, "
            "'utf-8', 1, 1, 0, NULL, 'b1', 'loaded', NULL, now())", [as_of])


def late_invoice(db: Path, *, loaded_on: date, account_id: str = "A3", amount: float = 8_100_000.0) -> None:
    """A November invoice for `account_id` arriving in the extract of `loaded_on` (after the close): the
    raw rows the restatement's cause is derived from."""
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO raw.billing__invoices (invoice_id, account_id, invoice_date, due_date, currency, "
                    "status, updated_at, _extract_day) VALUES ('LATE1', ?, '2025-11-20', '2025-12-20', 'CNY', "
                    "'issued', '2025-12-06 08:00', ?)", [account_id, loaded_on])
        con.execute("INSERT INTO raw.billing__invoice_lines (invoice_line_id, invoice_id, product_code, quantity, "
                    "unit_price, amount, service_start, service_end, updated_at, _extract_day) VALUES ('LATE1-1', "
                    "'LATE1', 'P', 1, ?, ?, '2025-11-01', '2025-11-30', '2025-12-06 08:00', ?)",
                    [amount, amount, loaded_on])


def dbt_build(project: Path, db: Path) -> None:
    from dbt.cli.main import dbtRunner

    os.environ["KAM_BUILD_DB"] = str(db)
    result = dbtRunner().invoke(["build", "--project-dir", str(project), "--profiles-dir", str(project),
                                 "--target-path", str(project / "target"), "--log-path", str(project / "logs"),
                                 "--quiet"])
    failed = [f"{r.node.name}: {r.message}" for r in getattr(result.result, "results", []) or []
              if str(r.status) in ("error", "fail")]
    assert result.success, result.exception or failed
    release_dbt_duckdb()


def release_dbt_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB instance open in-process after invoke(); close it like a finished
    `dbt build` process would, so the code under test can open the file (read-only or not)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()
