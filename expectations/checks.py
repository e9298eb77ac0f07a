"""The Great Expectations half of the gate: what dbt cannot see (docs/quality-and-tiers.md, "Where a
check goes").

dbt tests hold the invariants of a model (keys, grain, relationships, accepted values, ranges, formulas);
the checks here hold what no model owns: the loads themselves (raw.load_manifest: freshness, rejected
files, quarantine share, volume against earlier days) and the reconciliation of what was loaded with
what staging kept. Every check is one GX expectation on one batch (a table asset): an
`UnexpectedRowsExpectation` whose query returns one row per violation with a human-readable `detail`.
Thresholds come from config/quality.yml and are substituted into the SQL as numbers (`$name`; `$name_pct`
is 100 x the value as text, e.g. `2` for 0.02, for messages). The SQL is what DuckDB and PostgreSQL
both accept (no printf, date_diff, ...): the same checks run on either warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from string import Template
from typing import Any

from ingest.contract import ENTITIES


@dataclass(frozen=True)
class Check:
    """One expectation of the gate.

    `key` names the entry in config/quality.yml (severity, thresholds); `name` is unique per check
    (key plus the relation for checks repeated per table). `query` is the SQL template of the rows that
    violate the check.
    """

    key: str
    suite: str
    table: str
    query: str
    #: other relations the query reads; a missing one fails the check without running GX
    reads: tuple[str, ...] = ()
    #: skip (pass, noting why) instead of failing when `table` does not exist yet
    optional: bool = False
    #: the check is repeated per table (the name carries the table)
    per_table: bool = False
    #: the query of a narrow night (`$since`: the tested watermark, kam_warehouse.test_scope), when the
    #: check can read only what a night changed; None: the full query every night
    narrow_query: str | None = None

    @property
    def name(self) -> str:
        return f"{self.key}[{self.table}]" if self.per_table else self.key

    def relations(self) -> tuple[str, ...]:
        return (self.table, *self.reads)

    def sql(self, params: Mapping[str, Any], *, since: datetime | None = None) -> str:
        """The GX query: thresholds substituted, and `batch_rows` bound to GX's `{batch}` in a leading CTE.
        With `since` (a narrow night) the narrow query, if the check has one, reading what changed after it.

        GX substitutes `{batch}` as a parenthesised subquery, with its own alias unless the query has a
        JOIN (then the query must alias it). PostgreSQL needs an alias on a subquery in FROM, so the CTE
        always has a JOIN (a one-row CROSS JOIN) and aliases the batch itself: the same SQL on DuckDB and
        PostgreSQL whatever joins the check's own query has."""
        numeric = {k: _sql_literal(v) for k, v in params.items()}
        numeric |= {f"{k}_pct": f"{100 * v:g}" for k, v in params.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)}
        query = self.query
        if since is not None and self.narrow_query is not None:
            query = self.narrow_query
            numeric["since"] = f"CAST('{since.replace(tzinfo=None).isoformat(sep=' ')}' AS TIMESTAMP)"
        body = Template(query).substitute(numeric).strip()
        head = ("WITH batch_rows AS (SELECT batch_source.* FROM {batch} AS batch_source "
                "CROSS JOIN (SELECT 1 AS one) AS one_row)")
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
    key="raw.freshness", suite="raw", table="raw.load_manifest",
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
WHERE d.latest_loaded IS NULL OR l.latest_landed - d.latest_loaded > $max_lag_days
UNION ALL
SELECT 'all' AS source, 'nothing has been loaded: raw.load_manifest has no extract file yet' AS detail
WHERE NOT EXISTS (SELECT 1 FROM batch_rows)
""",
)

REJECTED_FILES = Check(
    key="raw.rejected_files", suite="raw", table="raw.load_manifest",
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
    key="raw.volume", suite="raw", table="raw.load_manifest",
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
         || CAST(CAST(trailing_avg AS NUMERIC(18, 1)) AS VARCHAR) || ' (allowed x$min_ratio..x$max_ratio)' AS detail
FROM cmp
WHERE history_days >= $min_history_days AND trailing_avg >= $min_rows
  AND (today < $min_ratio * trailing_avg OR today > $max_ratio * trailing_avg)
""",
)

QUARANTINE_SHARE = Check(
    key="raw.quarantine_share", suite="raw", table="raw.load_manifest",
    query="""
SELECT m.file_path,
       m.source || '.' || m.entity || ' '
         || CAST(CAST(100.0 * m.rows_quarantined / m.rows_read AS NUMERIC(18, 1)) AS VARCHAR)
         || '% > $max_share_pct% (' || m.file_path || ', '
         || CAST(m.rows_quarantined AS VARCHAR) || ' of ' || CAST(m.rows_read AS VARCHAR)
         || ' rows quarantined)' AS detail
FROM batch_rows m
WHERE m.status = 'loaded' AND m.rows_read >= $min_rows
  AND m.rows_quarantined > $max_share * m.rows_read
  AND m.extract_day = (SELECT max(x.extract_day) FROM batch_rows x WHERE x.source = m.source)
""",
)


# ---------------------------------------------------------------- raw against staging
#: the staging models that are tables replaced by key (dbt macro replace_by_key_config): a row changes
#: only with a new raw version of its key, so a narrow night reconciles the keys loaded after the tested
#: watermark (tests/expectations/test_narrow_reconcile.py holds this to the dbt project). The staging
#: views are computed from every raw row whenever they are read: narrowing them reads no less.
KEYED_STAGING_TABLES: frozenset[tuple[str, str]] = frozenset({
    ("billing", "invoices"), ("billing", "invoice_lines"), ("billing", "payments"), ("crm", "activities"),
})


def _entity_keys(source: str, entity: str, key: tuple[str, ...], *, narrow: bool = False) -> str:
    cols = ", ".join(key)
    raw, staging = f"raw.{source}__{entity}", f"staging.stg_{source}__{entity}"
    if narrow and (source, entity) in KEYED_STAGING_TABLES:
        # the keys with a raw version loaded after the watermark, each exactly one staging row (every older
        # key was reconciled by the build whose gate passed at that watermark, and no row of it moved since)
        new_keys = f"SELECT DISTINCT {cols} FROM {raw} WHERE _loaded_at > $since"
        match = " AND ".join(f"n.{k} = s.{k}" for k in key)
        return f"""SELECT '{raw}' AS raw_table, '{staging}' AS staging_table,
       '{cols}; loaded after ' || CAST($since AS VARCHAR) AS key_columns, ' of them' AS rows_of,
       (SELECT count(*) FROM ({new_keys}) AS k) AS raw_keys,
       (SELECT count(*) FROM {staging} AS s WHERE EXISTS (SELECT 1 FROM ({new_keys}) AS n WHERE {match})) AS staging_rows"""
    return f"""SELECT '{raw}' AS raw_table, '{staging}' AS staging_table, '{cols}' AS key_columns, '' AS rows_of,
       (SELECT count(*) FROM (SELECT DISTINCT {cols} FROM {raw}) AS k) AS raw_keys,
       (SELECT count(*) FROM {staging}) AS staging_rows"""


def _raw_keys_query(*, narrow: bool) -> str:
    counts = "\n".join(("UNION ALL " if i else "") + _entity_keys(e.source, e.name, e.key, narrow=narrow)
                       for i, e in enumerate(ENTITIES))
    return f"""
WITH counts AS (
{counts}
)
SELECT raw_table, raw_keys, staging_rows,
       raw_table || ' holds ' || CAST(raw_keys AS VARCHAR) || ' distinct keys (' || key_columns || ') but '
         || staging_table || ' has ' || CAST(staging_rows AS VARCHAR) || ' rows' || rows_of AS detail
FROM counts
WHERE raw_keys <> staging_rows
"""


#: every distinct contract key loaded into raw.<source>__<entity> (all versions) is exactly one row of its
#: staging model: nothing loaded is lost or doubled on the way into the warehouse. One expectation for all
#: entities (one GX batch instead of one per table); the batch (the manifest) only anchors it. On a narrow
#: night the keyed staging tables reconcile the keys loaded after the tested watermark (KEYED_STAGING_TABLES;
#: counting every distinct invoice line key was most of the gate's query time at 10M lines).
RAW_KEYS_IN_STAGING = Check(
    key="reconcile.raw_keys_in_staging", suite="reconcile", table="raw.load_manifest",
    reads=tuple(r for e in ENTITIES for r in (f"raw.{e.source}__{e.name}", f"staging.stg_{e.source}__{e.name}")),
    query=_raw_keys_query(narrow=False),
    narrow_query=_raw_keys_query(narrow=True),
)

ALL_CHECKS: tuple[Check, ...] = (FRESHNESS, REJECTED_FILES, VOLUME, QUARANTINE_SHARE, RAW_KEYS_IN_STAGING)
