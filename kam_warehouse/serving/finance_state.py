"""The `finance` schema of the build warehouse: month-end close state, written only by `kam close`.

A close version of a month is the whole report as it stood at close:
- finance.concentration_closed: every figure (long form: figure_set overall/segment × level × window ×
  segment × metric) of the closed month, and of the two comparison months the report shows beside it
  (figure_month = the month before and the same month a year before: the MoM / YoY columns);
- finance.concentration_closed_entities: every active account and group of the closed month (both
  windows) with its name, segment, customer type, tier, revenue, rank, share and Lorenz point: the top
  lists, the Lorenz curve and the Pareto chart are read from here.
Both carry close_version / is_current; a re-close keeps the earlier version (is_current = false).

Their DDL is defined once, in dbt_project.yml (var kam_state_tables): rendered by
kam_warehouse.core.state_tables here and by the pre-hooks of dbt model mart_finance_concentration_closed
(so dbt works on a new warehouse). The `add column` statements upgrade a warehouse closed by an earlier
release (its rows have figure_month null: the closed month itself). The SQL is portable (DuckDB and
PostgreSQL).
"""

from __future__ import annotations

from kam_warehouse.core import state_tables
from kam_warehouse.core.warehouse import Connection

CLOSED_TABLE = "finance.concentration_closed"
CLOSED_ENTITIES_TABLE = "finance.concentration_closed_entities"
CLOSE_LOG_TABLE = "finance.close_log"
#: the dbt views over the current figures / entities in the frozen form
FIGURES_VIEW = "marts.mart_finance_concentration_figures"
ENTITIES_VIEW = "marts.mart_finance_concentration_entities"


def ensure_finance_schema(con: Connection) -> None:
    for statement in state_tables.statements("finance"):
        con.execute(statement)
