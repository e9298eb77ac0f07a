"""The extract contract as code: entities, columns, types, keys, enums.

Single source of truth shared by the generator (what it writes), the loaders (what they validate and
which `raw` tables they create) and the dbt sources (what staging reads). See docs/extracts.md and
../shared/contracts.md. Change only additively.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["varchar", "date", "timestamp", "decimal", "rate", "bool"]

SOURCES: tuple[str, ...] = ("billing", "crm")

#: DuckDB type each contract type is stored as in the `raw` schema.
DUCKDB_TYPES: dict[ColumnType, str] = {
    "varchar": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "decimal": "DECIMAL(18,4)",
    "rate": "DECIMAL(18,8)",
    "bool": "BOOLEAN",
}

#: Lineage columns every raw table carries after the contract columns.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),  # path relative to the landing root, e.g. billing/2025-01-02/invoices.csv
    ("_line_number", "BIGINT"),  # 1-based physical line in the file (header = line 1, first record = 2)
    ("_batch_id", "VARCHAR"),  # one batch per (source, extract day) load
    ("_extract_day", "DATE"),  # the landing day folder the row came from
    ("_loaded_at", "TIMESTAMP"),
)

DEFECT_OUTCOMES: dict[str, Literal["quarantine", "reject_file"]] = {
    # row-level: the row goes to raw.quarantine with a reason, the rest of the file loads
    "bad_date": "quarantine",
    "non_numeric_amount": "quarantine",
    "negative_quantity": "quarantine",
    "unknown_account": "quarantine",
    "duplicate_key_conflict": "quarantine",
    "truncated_last_line": "quarantine",
    # file-level: the file is rejected whole, its day folder is not applied
    "missing_required_column": "reject_file",
    "wrong_encoding": "reject_file",
    "empty_file": "reject_file",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "varchar"
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    non_negative: bool = False
    #: a value must be above 0 (a rate)
    positive: bool = False
    #: highest value allowed (decimal text), e.g. "1" for a probability
    at_most: str | None = None
    #: the value's shape beyond its type: "currency" = an ISO 4217 code (three capital letters)
    shape: Literal["currency"] | None = None
    #: a column of the same row this (date) column must not be before, e.g. service_end >= service_start
    not_before: str | None = None
    #: (source, entity) this column references by key; unknown values are quarantined
    references: tuple[str, str] | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    #: file names accepted for this entity, in order of preference
    file_names: tuple[str, ...] = field(default=())
    #: allowed file encodings (billing: UTF-8 only; CRM: UTF-8, UTF-8-BOM, GB18030)
    encodings: tuple[str, ...] = ("utf-8",)

    @property
    def raw_table(self) -> str:
        """Fully qualified raw table, e.g. raw.billing__invoices."""
        return f"raw.{self.source}__{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.source}.{self.name} has no column {name!r}")


CRM_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
ACCOUNTS = ("crm", "accounts")
INVOICES = ("billing", "invoices")

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "billing",
        "invoices",
        key=("invoice_id",),
        columns=(
            Column("invoice_id"),
            Column("account_id", references=ACCOUNTS),
            Column("invoice_date", "date"),
            Column("due_date", "date"),
            Column("currency", shape="currency"),
            Column("status", enum=("issued", "void")),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "billing",
        "invoice_lines",
        key=("invoice_line_id",),
        columns=(
            Column("invoice_line_id"),
            Column("invoice_id", references=INVOICES),
            Column("product_code"),
            Column("description", nullable=True),
            Column("quantity", "decimal", non_negative=True),
            Column("unit_price", "decimal"),
            Column("amount", "decimal"),
            Column("service_start", "date"),
            Column("service_end", "date", not_before="service_start"),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "billing",
        "credit_notes",
        key=("credit_note_id",),
        columns=(
            Column("credit_note_id"),
            Column("invoice_id", nullable=True, references=INVOICES),
            Column("account_id", references=ACCOUNTS),
            Column("credit_date", "date"),
            Column("currency", shape="currency"),
            Column("amount", "decimal", non_negative=True),
            Column("reason", nullable=True),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "billing",
        "payments",
        key=("payment_id",),
        columns=(
            Column("payment_id"),
            Column("invoice_id", references=INVOICES),
            Column("account_id", references=ACCOUNTS),
            Column("payment_date", "date"),
            Column("currency", shape="currency"),
            Column("amount", "decimal"),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "billing",
        "fx_rates",
        key=("rate_date", "currency"),
        columns=(
            Column("rate_date", "date"),
            Column("currency", shape="currency"),
            Column("rate_to_reporting", "rate", positive=True),
        ),
    ),
    Entity(
        "crm",
        "accounts",
        key=("account_id",),
        file_names=("accounts.csv", "accounts.xlsx"),
        encodings=CRM_ENCODINGS,
        columns=(
            Column("account_id"),
            Column("account_name"),
            Column("parent_account_id", nullable=True),
            Column("merged_into_account_id", nullable=True),
            Column("industry", nullable=True),
            Column("region", nullable=True),
            Column("segment", nullable=True, enum=("enterprise", "upper_mid_market", "mid_market")),
            Column("customer_type", enum=("economic", "important", "group", "strategic")),
            Column("account_manager", nullable=True),
            Column("estimated_annual_budget", "decimal", nullable=True, non_negative=True),
            Column("is_reference_customer", "bool"),
            Column("created_at", "timestamp"),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "crm",
        "contacts",
        key=("contact_id",),
        encodings=CRM_ENCODINGS,
        columns=(
            Column("contact_id"),
            Column("account_id", references=ACCOUNTS),
            Column("full_name", nullable=True),
            Column("email", nullable=True),
            Column("phone", nullable=True),
            Column("role", nullable=True),
            Column("is_primary", "bool"),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "crm",
        "opportunities",
        key=("opportunity_id",),
        encodings=CRM_ENCODINGS,
        columns=(
            Column("opportunity_id"),
            Column("account_id", references=ACCOUNTS),
            Column(
                "stage",
                enum=("prospecting", "qualification", "proposal", "negotiation", "won", "lost"),
            ),
            Column("amount", "decimal", non_negative=True),
            Column("currency", shape="currency"),
            Column("probability", "rate", non_negative=True, at_most="1"),
            Column("expected_close_date", "date", nullable=True),
            Column("updated_at", "timestamp"),
        ),
    ),
    Entity(
        "crm",
        "activities",
        key=("activity_id",),
        encodings=CRM_ENCODINGS,
        columns=(
            Column("activity_id"),
            Column("account_id", references=ACCOUNTS),
            Column(
                "activity_type",
                enum=("visit", "executive_visit", "call", "meeting", "qbr", "email"),
            ),
            Column("activity_date", "date"),
            Column("updated_at", "timestamp"),
        ),
    ),
)


def entity(source: str, name: str) -> Entity:
    for e in ENTITIES:
        if e.source == source and e.name == name:
            return e
    raise KeyError(f"no entity {source}.{name} in the extract contract")


def entities_of(source: str) -> tuple[Entity, ...]:
    if source not in SOURCES:
        raise KeyError(f"unknown source {source!r}; expected one of {SOURCES}")
    return tuple(e for e in ENTITIES if e.source == source)


def file_names(e: Entity) -> tuple[str, ...]:
    return e.file_names or (f"{e.name}.csv",)
