"""The `finance` schema of the build warehouse: month-end close state, written only by `kam close`.

A close version of a month is the whole report as it stood at close:
- finance.concentration_closed: every figure (long form: figure_set overall/segment × level × window ×
  segment × metric) of the closed month, and of the two comparison months the report shows beside it
  (figure_month = the month before and the same month a year before: the MoM / YoY columns);
- finance.concentration_closed_entities: every active account and group of the closed month (both
  windows) with its name, segment, customer type, tier, revenue, rank, share and Lorenz point: the top
  lists, the Lorenz curve and the Pareto chart are read from here.
Both carry close_version / is_current; a re-close keeps the earlier version (is_current = false).

The same DDL is the pre-hook of dbt model mart_finance_concentration_closed (so dbt works on a new
warehouse); tests/serving hold the two equal. The ALTERs upgrade a warehouse closed by an earlier
release (its rows have figure_month null: the closed month itself). The SQL is portable (DuckDB and
PostgreSQL).
"""

from __future__ import annotations

from kam_warehouse.core.warehouse import Connection

CLOSED_TABLE = "finance.concentration_closed"
CLOSED_ENTITIES_TABLE = "finance.concentration_closed_entities"
CLOSE_LOG_TABLE = "finance.close_log"
#: the dbt views over the current figures / entities in the frozen form
FIGURES_VIEW = "marts.mart_finance_concentration_figures"
ENTITIES_VIEW = "marts.mart_finance_concentration_entities"

FINANCE_DDL: tuple[str, ...] = (
    "create schema if not exists finance",
    """create table if not exists finance.concentration_closed (
            closed_month date not null, figure_set varchar not null, level varchar not null,
            time_window varchar not null, segment varchar not null, metric varchar not null, value double precision,
            close_version integer not null, is_current boolean not null, as_of_date date not null,
            closed_at timestamp not null, closed_by_run_id varchar not null, close_reason varchar)""",
    "alter table finance.concentration_closed add column if not exists figure_month date",
    "alter table finance.concentration_closed add column if not exists closed_by varchar",
    """create table if not exists finance.concentration_closed_entities (
            closed_month date not null, close_version integer not null, is_current boolean not null,
            level varchar not null, time_window varchar not null, entity_id varchar not null,
            entity_name varchar, segment varchar, customer_type varchar, tier varchar, revenue double precision,
            rank_desc integer not null, share double precision, cumulative_share double precision, point integer not null,
            cumulative_entity_share double precision, cumulative_revenue_share double precision)""",
    """create table if not exists finance.close_log (
            closed_month date not null, close_version integer, action varchar not null,
            run_id varchar not null, logged_at timestamp not null, figures integer, reason varchar)""",
)


def ensure_finance_schema(con: Connection) -> None:
    for statement in FINANCE_DDL:
        con.execute(statement)
