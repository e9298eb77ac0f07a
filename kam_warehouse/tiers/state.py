"""DDL of the tier state (schema `tiers`) and of the night's change log `ops.tier_changes`.

`tiers.account_tier_history` and `tiers.tier_overrides` are read by dbt too: their DDL is defined once,
in dbt_project.yml (var kam_state_tables, rendered by kam_warehouse.core.state_tables here and by the
dbt on-run-start hooks on a new warehouse). The tables only the tier step reads are defined here. History
rows are half-open intervals [valid_from, valid_to); valid_to is null while the row is current.
"""

from __future__ import annotations

from kam_warehouse.core import state_tables
from kam_warehouse.core.comments import comment_table
from kam_warehouse.core.warehouse import Connection

#: a proposed tier that differs from the current one by less than the margin, night after night
TIER_CANDIDATES_DDL = """
CREATE TABLE IF NOT EXISTS tiers.tier_candidates (
    account_id     VARCHAR NOT NULL,
    candidate_tier VARCHAR NOT NULL,
    first_seen     DATE    NOT NULL,
    last_seen      DATE    NOT NULL,
    nights         INTEGER NOT NULL
)
"""

#: one row per reclassified night (as_of): what makes a re-run of the same night a no-op
TIER_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS tiers.tier_runs (
    as_of    DATE      NOT NULL,
    run_id   VARCHAR   NOT NULL,
    ran_at   TIMESTAMP NOT NULL,
    scored   INTEGER   NOT NULL,
    changes  INTEGER   NOT NULL
)
"""

TIER_CHANGES_DDL = """
CREATE TABLE IF NOT EXISTS ops.tier_changes (
    run_id       VARCHAR NOT NULL,
    as_of        DATE    NOT NULL,
    account_id   VARCHAR NOT NULL,
    from_tier    VARCHAR,            -- null on the first classification
    to_tier      VARCHAR NOT NULL,
    score        DOUBLE PRECISION,
    reason       VARCHAR NOT NULL
)
"""


TIER_CHANGES_DOC = "Every tier change the nightly tier step made: one row per group and night it moved."
TIER_CHANGES_COLUMNS = {
    "run_id": "Pipeline run of the tier step (ops.pipeline_runs.run_id).",
    "as_of": "Night (as-of date) of the change.",
    "account_id": "Account id of the group head whose tier changed.",
    "from_tier": "Tier before (null on the first classification).",
    "to_tier": "Tier after: strategic, key, standard or other.",
    "score": "Tier score (0-100 points) that night.",
    "reason": "Why it moved: margin crossed, nights in a row, first classification, or an override.",
}


def ensure_tier_state(con: Connection) -> None:
    """Create the tier state and ops.tier_changes if missing (idempotent)."""
    for ddl in (*state_tables.statements("tiers"), "CREATE SCHEMA IF NOT EXISTS ops",
                TIER_CANDIDATES_DDL, TIER_RUNS_DDL, TIER_CHANGES_DDL):
        con.execute(ddl)
    comment_table(con, "ops.tier_changes", TIER_CHANGES_DOC, TIER_CHANGES_COLUMNS)
