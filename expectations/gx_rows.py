"""The gate's one expectation type: GX's `UnexpectedRowsExpectation`, evaluated with one query instead of two.

Why: GX's `UnexpectedRowsExpectation` depends on two metrics, `unexpected_rows_query.table` (the query,
first 200 rows fetched) and `unexpected_rows_query.row_count` (`SELECT COUNT(*) FROM (<the query>)`), so
the warehouse runs every check's query twice. For reconcile.raw_keys_in_staging (distinct keys of every
raw table, rows of every staging model) that was half of the gate's SQL time: 2 x ~3 s at 10M invoice
lines (issue 17), growing with the book.

`KamUnexpectedRowsExpectation` is that expectation with one metric instead of the two:
`kam.unexpected_rows_query.rows_and_count` runs the query once, keeps the first `MAX_RESULT_RECORDS` rows
(what GX's table metric keeps) and counts the rest while reading them. Everything else is inherited
unchanged: the query validation, `{batch}` substitution, success (no row), the result (`observed_value` =
the count, `details.unexpected_rows` = the rows kept) and every renderer, so ops.dq_results and the Data
Docs pages read as before; GX records the type as `kam_unexpected_rows_expectation`.

This module imports GX: import it only where GX runs (expectations.gx_runner.evaluate).
tests/expectations/test_gx_rows.py pins it against GX's own expectation (same result, one query fewer) and
fails when GX renames the metric helpers it uses.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider

ROWS_AND_COUNT = "kam.unexpected_rows_query.rows_and_count"
#: the metrics GX's own UnexpectedRowsExpectation reads (the test checks GX still does)
GX_METRICS = ("unexpected_rows_query.table", "unexpected_rows_query.row_count")


class UnexpectedRowsAndCount(QueryMetricProvider):
    """The violating rows (the first MAX_RESULT_RECORDS) and how many there are, from one execution."""

    metric_name = ROWS_AND_COUNT
    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, execution_engine: SqlAlchemyExecutionEngine, metric_domain_kwargs: dict,
                    metric_value_kwargs: dict, metrics: dict[str, Any], runtime_configuration: dict) -> dict[str, Any]:
        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
        substituted = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
            query=query, batch_selectable=batch_selectable, execution_engine=execution_engine)
        result = execution_engine.execute_query(sa.text(substituted))
        try:
            rows = [row._asdict() for row in result.fetchmany(MAX_RESULT_RECORDS)]
            count = len(rows)
            if count == MAX_RESULT_RECORDS:  # read (and count) the rest without keeping it
                while batch := result.fetchmany(10_000):
                    count += len(batch)
        finally:
            result.close()
        return {"rows": rows, "count": count}


class KamUnexpectedRowsExpectation(UnexpectedRowsExpectation):
    """GX's UnexpectedRowsExpectation with its two metrics read from one query (module docstring)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = (ROWS_AND_COUNT,)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: Any = None) -> Any:
        rows_and_count = metrics[ROWS_AND_COUNT]
        as_gx = {GX_METRICS[0]: rows_and_count["rows"], GX_METRICS[1]: rows_and_count["count"]}
        return super()._validate(as_gx, runtime_configuration, execution_engine)
