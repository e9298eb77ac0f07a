"""DDL of the state tables the Python steps own and dbt reads, rendered from their one definition.

The tier state (`tiers.account_tier_history`, `tiers.tier_overrides`) and the month-end close state
(`finance.concentration_closed`, `finance.concentration_closed_entities`, `finance.close_log`) are
defined once, as var `kam_state_tables` in dbt_project/dbt_project.yml: dbt creates them empty from it
(dbt_project/macros/state_tables.sql) so a build works on a new warehouse, and the tier step and
`kam close` create them from it here. Both render the same statements in the same order: "create
schema", then per table its create and one `add column if not exists` per `upgrade` column. The SQL is
portable between DuckDB and PostgreSQL (Spark has its own types in the macro).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from kam_warehouse.core.errors import ConfigError
from kam_warehouse.core.settings import DBT_PROJECT_DIR

VAR = "kam_state_tables"
#: a definition type as DuckDB / PostgreSQL column type (macro default__state_column_types)
COLUMN_TYPES = {"string": "varchar", "double": "double precision", "integer": "integer", "boolean": "boolean",
                "date": "date", "timestamp": "timestamp"}
_MODIFIERS = ("", "not null", "upgrade")


@cache
def definition(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, dict[str, tuple[str, ...]]]:
    """schema -> table -> column specs ("name type [not null | upgrade]"), in their order."""
    path = project_dir / "dbt_project.yml"
    try:
        project = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the state-table definition (var {VAR}) from {path}: {exc}") from exc
    schemas = ((project or {}).get("vars") or {}).get(VAR)
    if not isinstance(schemas, dict) or not schemas:
        raise ConfigError(f"{path}: var {VAR} (schema -> table -> columns) is missing or empty")
    return {schema: {table: tuple(columns) for table, columns in tables.items()} for schema, tables in schemas.items()}


def statements(schema: str, project_dir: Path = DBT_PROJECT_DIR) -> tuple[str, ...]:
    """Every statement that creates (or upgrades) the state tables of `schema`, idempotent, in order."""
    tables = definition(project_dir).get(schema)
    if not tables:
        raise ConfigError(f"{project_dir / 'dbt_project.yml'}: var {VAR} defines no tables for schema {schema!r}")
    out = [f"create schema if not exists {schema}"]
    for table, columns in tables.items():
        rendered: list[str] = []
        upgrades: list[str] = []
        for spec in columns:
            column, modifier = _column(schema, table, spec)
            rendered.append(column + (" not null" if modifier == "not null" else ""))
            if modifier == "upgrade":
                upgrades.append(column)
        out.append(f"create table if not exists {schema}.{table} ({', '.join(rendered)})")
        out.extend(f"alter table {schema}.{table} add column if not exists {column}" for column in upgrades)
    return tuple(out)


def _column(schema: str, table: str, spec: str) -> tuple[str, str]:
    parts = str(spec).split(" ", 2)
    modifier = parts[2] if len(parts) > 2 else ""
    where = f"var {VAR}.{schema}.{table}: column {spec!r}"
    if len(parts) < 2 or modifier not in _MODIFIERS:
        raise ConfigError(f"{where} must be 'name type', 'name type not null' or 'name type upgrade'")
    if parts[1] not in COLUMN_TYPES:
        raise ConfigError(f"{where}: unknown type {parts[1]!r} (allowed: {', '.join(COLUMN_TYPES)})")
    return f"{parts[0]} {COLUMN_TYPES[parts[1]]}", modifier
