"""Row checks of the extract contract as DuckDB SQL over a staged all-VARCHAR table.

Every row gets its typed values and, if it fails, the first failing column (contract order) and a
reason starting with the defect class, e.g. ``bad_date: invoice_date is not a YYYY-MM-DD date``.
Reasons name the column and the rule, never the value (they are published in ops.quarantine; the
record's text stays in the build warehouse's raw.quarantine.raw_line). Duplicate keys within the
file are found separately (`duplicates_sql`).
"""

from __future__ import annotations

from ingest.contract import ACCOUNTS, Column, Entity, entity
from ingest.stage import ident, literal

#: defect class reported when a referenced key is unknown, per referenced (source, entity)
UNKNOWN_REFERENCE = {ACCOUNTS: "unknown_account", ("billing", "invoices"): "unknown_invoice"}


def typed_expr(c: Column) -> str:
    v = ident(c.name)
    if c.type == "varchar":
        return v
    if c.type == "bool":
        return f"CASE lower({v}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    return f"TRY_CAST({v} AS {c.duckdb_type})"


#: SQL condition (on the raw text `v`) a value of each shape must meet, and the rule in words
SHAPES = {"currency": ("regexp_full_match({v}, '[A-Z]{{3}}')", "is not a three-letter ISO 4217 code (e.g. CNY)")}


def _reason(cls: str, c: Column, rule: str) -> str:
    """SQL literal of a reason: `<class>: <column> <rule>`."""
    return literal(f"{cls}: {c.name} {rule}")


def _type_failure(c: Column) -> tuple[str, str] | None:
    """(condition on a non-null value, reason SQL) for the column's type, None for varchar."""
    v, typed = ident(c.name), typed_expr(c)
    if c.type == "date":
        return f"length({v}) <> 10 OR {typed} IS NULL", _reason("bad_date", c, "is not a YYYY-MM-DD date")
    if c.type == "timestamp":
        return f"length({v}) < 10 OR {typed} IS NULL", _reason("bad_date", c, "is not an ISO 8601 timestamp")
    if c.type in ("decimal", "rate"):
        return f"{typed} IS NULL", _reason("non_numeric_amount", c, "is not a decimal number")
    if c.type == "bool":
        return f"{typed} IS NULL", _reason("bad_boolean", c, "is not true/false")
    return None


def _value_failures(c: Column) -> list[tuple[str, str]]:
    """(condition, reason SQL) of the checks on a well-typed value: enum, shape, range, order."""
    v, typed = ident(c.name), typed_expr(c)
    branches: list[tuple[str, str]] = []
    if c.enum:
        allowed = ", ".join(literal(x) for x in c.enum)
        branches.append((f"{v} NOT IN ({allowed})", _reason("bad_enum", c, "is not one of " + "/".join(c.enum))))
    if c.shape:
        condition, rule = SHAPES[c.shape]
        branches.append((f"NOT {condition.format(v=v)}", _reason(f"bad_{c.shape}", c, rule)))
    if c.non_negative:
        cls = "negative_quantity" if c.name == "quantity" else "negative_value"
        branches.append((f"{typed} < 0", _reason(cls, c, "is negative")))
    if c.positive:
        branches.append((f"{typed} <= 0", _reason("non_positive_value", c, "is not above 0")))
    if c.at_most is not None:
        branches.append((f"{typed} > {c.at_most}", _reason("out_of_range", c, f"is above {c.at_most}")))
    if c.not_before:
        first = Column(c.not_before, c.type)
        branches.append(
            (f"{typed} < {typed_expr(first)}", _reason("bad_period", c, f"is before {c.not_before}"))
        )
    return branches


def ref_alias(c: Column) -> str:
    return f"_ref_{c.name}"


def reference_reason(c: Column) -> str:
    """Reason SQL for a value of `c` not found among the keys of the entity it references."""
    assert c.references is not None
    cls = UNKNOWN_REFERENCE.get(c.references, "unknown_reference")
    return _reason(cls, c, "not found in " + ".".join(c.references))


def error_expr(c: Column, *, references: bool = True, nul_free: bool = False) -> str:
    """STRUCT(col, reason) of the first failing check of column `c`, NULL when it passes (the reference
    check, which needs the `reference_joins`, left out when `references` is False). `nul_free`: the
    target's text cannot hold NUL, so a text value holding one fails (`nul_character`)."""
    v = ident(c.name)
    branches: list[tuple[str, str]] = []
    if not c.nullable:
        branches.append((f"{v} IS NULL", f"{literal(f'missing_value: {c.name} is empty')}"))
    if nul_free and c.type == "varchar":
        branches.append((f"{v} IS NOT NULL AND contains({v}, chr(0))",
                         _reason("nul_character", c, "holds a NUL character, which the warehouse cannot store")))
    type_failure = _type_failure(c)
    if type_failure:
        cond, reason = type_failure
        branches.append((f"{v} IS NOT NULL AND ({cond})", reason))
    branches += _value_failures(c)
    if c.references and references:
        branches.append((f"{v} IS NOT NULL AND {ref_alias(c)}._key IS NULL", reference_reason(c)))
    if not branches:
        return "NULL"
    whens = " ".join(f"WHEN {cond} THEN {{'col': {literal(c.name)}, 'reason': {reason}}}" for cond, reason in branches)
    return f"CASE {whens} END"


def reference_joins(e: Entity, alias: str) -> str:
    """LEFT JOINs to the key sets of the referenced raw tables (rows loaded so far, this day included)."""
    joins = []
    for c in e.columns:
        if c.references:
            target = entity(*c.references)
            key = target.key[0]
            joins.append(
                f"LEFT JOIN (SELECT DISTINCT {ident(key)} AS _key FROM {target.raw_table}) {ref_alias(c)} "
                f"ON {ref_alias(c)}._key = {alias}.{ident(c.name)}"
            )
    return "\n".join(joins)


def checked_sql(e: Entity, staged: str, line_expr: str, *, nul_free: bool = False) -> str:
    """SELECT (_line, typed contract columns, _err STRUCT(col, reason)) over the staged table."""
    typed = ", ".join(f"{typed_expr(c)} AS {ident(c.name)}" for c in e.columns)
    errors = ", ".join(error_expr(c, nul_free=nul_free) for c in e.columns)
    return f"""SELECT {line_expr} AS _line, {typed}, coalesce({errors}) AS _err
        FROM {staged} s {reference_joins(e, 's')}"""


def scan_checked_sql(e: Entity, source: str, *, nul_free: bool = False) -> str:
    """SELECT (typed contract columns, _err) over `source` (e.g. a read_csv call) with every check but
    the reference checks (see `ingest.references`), in one pass."""
    typed = ", ".join(f"{typed_expr(c)} AS {ident(c.name)}" for c in e.columns)
    errors = ", ".join(error_expr(c, references=False, nul_free=nul_free) for c in e.columns)
    return f"SELECT {typed}, coalesce({errors}) AS _err FROM {source}"


def has_duplicates_sql(e: Entity, staged: str) -> str:
    """One row (true) when some key occurs more than once in the staged file: the cheap pre-check."""
    key = ", ".join(ident(k) for k in e.key)
    return f"SELECT true FROM {staged} GROUP BY {key} HAVING count(*) > 1 LIMIT 1"


def duplicates_sql(e: Entity, staged: str, line_expr: str, out: str) -> str:
    """CREATE TEMP TABLE `out` (_line, column_name, reason) of rows dropped for duplicate keys.

    Identical repeats of a key: every copy but the first is dropped (reason `duplicate`). Repeats with
    different values: every row of the key is dropped (reason `duplicate_key_conflict`).
    """
    key = ", ".join(ident(k) for k in e.key)
    key_names = literal(" + ".join(e.key))
    values = "{" + ", ".join(f"{literal(c.name)}: {ident(c.name)}" for c in e.columns) + "}"
    return f"""CREATE OR REPLACE TEMP TABLE {out} AS
        WITH rows AS (SELECT {line_expr} AS _line, {key}, {values} AS _values FROM {staged}),
        dup AS (
            SELECT {key}, count(*) AS n, count(DISTINCT _values) AS versions, min(_line) AS first_line
            FROM rows GROUP BY {key} HAVING count(*) > 1
        )
        SELECT r._line, {literal(e.key[0])} AS column_name,
            CASE WHEN d.versions = 1
                THEN 'duplicate: ' || {key_names} || ' repeats line ' || d.first_line
                ELSE 'duplicate_key_conflict: ' || {key_names} || ' appears ' || d.n
                     || ' times with different values (first at line ' || d.first_line || ')'
            END AS reason
        FROM rows r JOIN dup d USING ({key})
        WHERE d.versions > 1 OR r._line <> d.first_line"""
