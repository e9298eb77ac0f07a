"""The catalogue of gate checks: what each one asserts, on which relation, as SQL pushed down to DuckDB.

Every check is one GX expectation on one batch (a table asset). Row checks are
`UnexpectedRowsExpectation`s whose query returns one row per violation with a human-readable `detail`;
range checks are `ExpectColumnValuesToBeBetween`. Thresholds come from config/quality.yml and are
substituted into the SQL as numbers (`$name`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from typing import Any, Literal

from ingest.contract import ENTITIES

CheckKind = Literal["rows", "between"]


@dataclass(frozen=True)
class Check:
    """One expectation of the gate.

    `key` names the entry in config/quality.yml (severity, thresholds); `name` is unique per check
    (key plus the relation for checks repeated per table). `query` is a SQL template for `rows`
    checks; `column`/`min_value`/`max_value` describe a `between` check.
    """

    key: str
    suite: str
    table: str
    kind: CheckKind
    query: str = ""
    column: str = ""
    min_value: float | None = None
    max_value: float | None = None
    #: other relations the query reads; a missing one fails the check without running GX
    reads: tuple[str, ...] = ()
    #: skip (pass, noting why) instead of failing when `table` does not exist yet
    optional: bool = False
    #: the check is repeated per table (the name carries the table)
    per_table: bool = False

    @property
    def name(self) -> str:
        if self.kind == "between":
            return f"{self.key}[{self.column}]"
        return f"{self.key}[{self.table}]" if self.per_table else self.key

    def relations(self) -> tuple[str, ...]:
        return (self.table, *self.reads)

    def sql(self, params: Mapping[str, Any]) -> str:
        """The GX query: thresholds substituted, and `batch_rows` bound to GX's `{batch}` in a leading CTE
        (GX substitutes `{batch}` as a subquery, which must not be followed by an alias)."""
        numeric = {k: _sql_literal(v) for k, v in params.items()}
        body = Template(self.query).substitute(numeric).strip()
        head = "WITH batch_rows AS (SELECT * FROM {batch})"
        if body[:4].upper() == "WITH":
            return f"{head},{body[4:]}"
        return f"{head}\n{body}"


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if not text.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"threshold {value!r} must be a number or a relation/column name")
    return text


# ---------------------------------------------------------------- raw loads (raw.load_manifest)
FRESHNESS = Check(
    key="raw.freshness", suite="raw", table="raw.load_manifest", kind="rows",
    query="""
WITH landed AS (SELECT max(extract_day) AS latest_landed FROM batch_rows),
     loaded AS (SELECT source, max(extract_day) AS latest_loaded FROM batch_rows
                WHERE status = 'loaded' GROUP BY source),
     sources AS (SELECT DISTINCT source FROM batch_rows)
SELECT s.source,
       s.source || ': latest loaded extract day ' || coalesce(CAST(d.latest_loaded AS VARCHAR), 'none')
         || ' is more than $max_lag_days day(s) behind the latest landed day '
         || CAST(l.latest_landed AS VARCHAR) AS detail
FROM sources s CROSS JOIN landed l LEFT JOIN loaded d USING (source)
WHERE d.latest_loaded IS NULL OR date_diff('day', d.latest_loaded, l.latest_landed) > $max_lag_days
""",
)

REJECTED_FILES = Check(
    key="raw.rejected_files", suite="raw", table="raw.load_manifest", kind="rows",
    query="""
SELECT m.file_path,
       m.file_path || ' was rejected: ' || coalesce(m.message, '(no message)') AS detail
FROM batch_rows m
WHERE m.status = 'rejected'
  AND m.extract_day = (SELECT max(x.extract_day) FROM batch_rows x WHERE x.source = m.source)
  AND NOT EXISTS (SELECT 1 FROM batch_rows ok
                  WHERE ok.status = 'loaded' AND ok.source = m.source AND ok.entity = m.entity
                    AND ok.extract_day = m.extract_day AND ok.loaded_at > m.loaded_at)
""",
)

VOLUME = Check(
    key="raw.volume", suite="raw", table="raw.load_manifest", kind="rows",
    query="""
WITH daily AS (SELECT source, entity, extract_day, sum(rows_read) AS n FROM batch_rows
               WHERE status = 'loaded' GROUP BY source, entity, extract_day),
     latest AS (SELECT source, max(extract_day) AS day FROM daily GROUP BY source),
     cmp AS (
       SELECT d.source, d.entity,
              coalesce(sum(d.n) FILTER (WHERE d.extract_day = l.day), 0) AS today,
              avg(d.n) FILTER (WHERE d.extract_day < l.day
                                 AND d.extract_day >= l.day - $trailing_days) AS trailing_avg,
              count(*) FILTER (WHERE d.extract_day < l.day
                                 AND d.extract_day >= l.day - $trailing_days) AS history_days
       FROM daily d JOIN latest l USING (source)
       GROUP BY d.source, d.entity)
SELECT source, entity,
       source || '.' || entity || ' ' || CAST(today AS VARCHAR) || ' rows vs trailing average '
         || printf('%.1f', trailing_avg) || ' (allowed x$min_ratio..x$max_ratio)' AS detail
FROM cmp
WHERE history_days >= $min_history_days AND trailing_avg >= $min_rows
  AND (today < $min_ratio * trailing_avg OR today > $max_ratio * trailing_avg)
""",
)

QUARANTINE_SHARE = Check(
    key="raw.quarantine_share", suite="raw", table="raw.load_manifest", kind="rows",
    query="""
SELECT m.file_path,
       m.source || '.' || m.entity || ' ' || printf('%.1f', 100.0 * m.rows_quarantined / m.rows_read)
         || '% > ' || printf('%g', 100.0 * $max_share) || '% (' || m.file_path || ', '
         || CAST(m.rows_quarantined AS VARCHAR) || ' of ' || CAST(m.rows_read AS VARCHAR)
         || ' rows quarantined)' AS detail
FROM batch_rows m
WHERE m.status = 'loaded' AND m.rows_read >= $min_rows
  AND m.rows_quarantined > $max_share * m.rows_read
  AND m.extract_day = (SELECT max(x.extract_day) FROM batch_rows x WHERE x.source = m.source)
""",
)


def _keys_unique(source: str, entity: str, key: tuple[str, ...]) -> Check:
    cols = ", ".join(key)
    shown = " || ', ' || ".join(f"coalesce(CAST({c} AS VARCHAR), 'NULL')" for c in key)
    table = f"staging.stg_{source}__{entity}"
    return Check(
        key="staging.keys_unique", suite="staging", table=table, kind="rows", per_table=True,
        query=f"""
SELECT {cols}, count(*) AS n,
       '{table} key ({cols}) = (' || {shown} || ') occurs ' || CAST(count(*) AS VARCHAR) || ' times' AS detail
FROM batch_rows GROUP BY {cols} HAVING count(*) > 1
""",
    )


KEYS_UNIQUE = tuple(_keys_unique(e.source, e.name, e.key) for e in ENTITIES)

# ---------------------------------------------------------------- marts
FCT = "marts.fct_account_revenue_monthly"
CONCENTRATION = "marts.mart_revenue_concentration_monthly"
TIER_SCORES = "marts.mart_account_tier_scores"
DIM_ACCOUNT = "marts.dim_account"

REVENUE_RECONCILES = Check(
    key="marts.revenue_reconciles", suite="marts", table=FCT, kind="rows",
    query="""
WITH f AS (SELECT coalesce(sum(revenue), 0) AS total, max(revenue_month) AS last_month FROM batch_rows),
     spine_start AS (SELECT account_id, min($month_column) AS first_month FROM $reference
                     WHERE $amount_column > 0 GROUP BY account_id),
     r AS (SELECT coalesce(sum(x.$amount_column), 0) AS total
           FROM $reference AS x JOIN spine_start AS s USING (account_id)
           WHERE x.$month_column >= s.first_month AND x.$month_column <= (SELECT last_month FROM f))
SELECT f.total AS mart_total, r.total AS reference_total,
       'fct_account_revenue_monthly total ' || printf('%.2f', f.total) || ' differs from '
         || '$reference.$amount_column ' || printf('%.2f', r.total) || ' by '
         || printf('%.2f', f.total - r.total) || ' (tolerance $tolerance)' AS detail
FROM f, r
WHERE abs(f.total - r.total) > $tolerance
""",
)

#: revenue the fact table cannot hold by definition (its spine starts at the first month with revenue > 0):
#: e.g. a credit note booked before an account's first positive month. Reported, so nothing is lost silently.
REVENUE_OUTSIDE_SPINE = Check(
    key="marts.revenue_outside_spine", suite="marts", table=FCT, kind="rows",
    query="""
WITH spine_start AS (SELECT account_id, min($month_column) AS first_month FROM $reference
                     WHERE $amount_column > 0 GROUP BY account_id)
SELECT x.account_id, x.$month_column AS revenue_month, x.$amount_column AS revenue,
       'account ' || x.account_id || ' has ' || printf('%.2f', x.$amount_column) || ' recognised in '
         || strftime(x.$month_column, '%Y-%m') || ', before its first month with revenue > 0 '
         || coalesce(strftime(s.first_month, '%Y-%m'), '(none)')
         || ': not in fct_account_revenue_monthly by definition' AS detail
FROM $reference AS x LEFT JOIN spine_start AS s USING (account_id)
WHERE (s.first_month IS NULL OR x.$month_column < s.first_month) AND abs(x.$amount_column) >= 0.005
""",
)

SHARE_BOUNDS = tuple(
    Check(key="marts.share_bounds", suite="marts", table=CONCENTRATION, kind="between", column=col,
          min_value=0.0, max_value=1.0)
    for col in ("top_20pct_share", "top_10_share", "gini")
)
HHI_BOUNDS = Check(key="marts.hhi_bounds", suite="marts", table=CONCENTRATION, kind="between", column="hhi",
                   min_value=0.0, max_value=10000.0)
TIER_SCORE_BOUNDS = Check(key="marts.tier_score_bounds", suite="marts", table=TIER_SCORES, kind="between",
                          column="score", min_value=0.0, max_value=100.0)

TIER_SCORE_COVERAGE = Check(
    key="marts.tier_score_coverage", suite="marts", table=TIER_SCORES, kind="rows", reads=(FCT, DIM_ACCOUNT),
    query=f"""
WITH last AS (SELECT max(revenue_month) AS m FROM {FCT}),
     active AS (SELECT d.group_id FROM {FCT} f JOIN {DIM_ACCOUNT} d USING (account_id), last
                WHERE f.revenue_month > last.m - INTERVAL ($active_months) MONTH
                GROUP BY d.group_id HAVING sum(f.revenue) > 0)
SELECT a.group_id,
       'group ' || a.group_id || ' has revenue in the last $active_months months but no tier score' AS detail
FROM active a
WHERE NOT EXISTS (SELECT 1 FROM batch_rows s WHERE s.account_id = a.group_id AND s.score IS NOT NULL)
""",
)

ONE_TIER_PER_ACCOUNT = Check(
    key="marts.one_tier_per_account", suite="marts", table=DIM_ACCOUNT, kind="rows", reads=(TIER_SCORES,),
    query=f"""
SELECT account_id, 'dim_account has ' || CAST(count(*) AS VARCHAR) || ' rows (tiers) for account '
         || account_id AS detail
FROM batch_rows GROUP BY account_id HAVING count(*) > 1
UNION ALL
SELECT account_id, 'mart_account_tier_scores has ' || CAST(count(*) AS VARCHAR) || ' proposed tiers for '
         || account_id AS detail
FROM {TIER_SCORES} GROUP BY account_id HAVING count(*) > 1
""",
)

ONE_CURRENT_TIER = Check(
    key="tiers.one_current_tier", suite="marts", table="tiers.account_tier_history", kind="rows", optional=True,
    query="""
SELECT account_id, 'account ' || account_id || ' has ' || CAST(count(*) AS VARCHAR)
         || ' current tiers in tiers.account_tier_history' AS detail
FROM batch_rows WHERE valid_to IS NULL GROUP BY account_id HAVING count(*) > 1
""",
)

MONTH_SPINE = Check(
    key="marts.month_spine_complete", suite="marts", table=FCT, kind="rows",
    query="""
WITH as_of AS (SELECT max(revenue_month) AS m FROM batch_rows),
     per AS (SELECT account_id, min(revenue_month) AS first_m, max(revenue_month) AS last_m,
                    count(DISTINCT revenue_month) AS months, count(*) AS n
             FROM batch_rows GROUP BY account_id)
SELECT account_id,
       'account ' || account_id || ': ' || CAST(months AS VARCHAR) || ' months (' || CAST(n AS VARCHAR)
         || ' rows) from ' || strftime(first_m, '%Y-%m') || ' to ' || strftime(last_m, '%Y-%m')
         || ', expected ' || CAST(date_diff('month', first_m, as_of.m) + 1 AS VARCHAR)
         || ' through the as-of month ' || strftime(as_of.m, '%Y-%m') AS detail
FROM per, as_of
WHERE months <> n OR last_m <> as_of.m OR months <> date_diff('month', first_m, last_m) + 1
""",
)

ALL_CHECKS: tuple[Check, ...] = (
    FRESHNESS, REJECTED_FILES, VOLUME, QUARANTINE_SHARE, *KEYS_UNIQUE,
    REVENUE_RECONCILES, REVENUE_OUTSIDE_SPINE, *SHARE_BOUNDS, HHI_BOUNDS, TIER_SCORE_BOUNDS, TIER_SCORE_COVERAGE,
    ONE_TIER_PER_ACCOUNT, ONE_CURRENT_TIER, MONTH_SPINE,
)
