"""The `finance` schema of the build warehouse: month-end close state, written only by `kam close`.

The same DDL is the pre-hook of dbt model mart_finance_concentration_closed (so dbt works on a new
warehouse); tests/serving hold the two equal.
"""

from __future__ import annotations

import duckdb

CLOSED_TABLE = "finance.concentration_closed"
CLOSE_LOG_TABLE = "finance.close_log"
#: the dbt view over the current figures in the frozen (long) form
FIGURES_VIEW = "marts.mart_finance_concentration_figures"

FINANCE_DDL: tuple[str, ...] = (
    "create schema if not exists finance",
    """create table if not exists finance.concentration_closed (
            closed_month date not null, figure_set varchar not null, level varchar not null,
            time_window varchar not null, segment varchar not null, metric varchar not null, value double,
            close_version integer not null, is_current boolean not null, as_of_date date not null,
            closed_at timestamp not null, closed_by_run_id varchar not null, close_reason varchar)""",
    """create table if not exists finance.close_log (
            closed_month date not null, close_version integer, action varchar not null,
            run_id varchar not null, logged_at timestamp not null, figures integer, reason varchar)""",
)


def ensure_finance_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in FINANCE_DDL:
        con.execute(statement)
