"""Property-based fuzzing of the loader (issue 12): mutated extract files never crash it, never lose a
row, never half-apply a day. The mutations, the case runner and the independent record counter are
those of benchmarks/fuzz_ingest.py, which runs thousands of cases; here a bounded number."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from fuzz_ingest import MUTATIONS, WORKBOOK_MUTATIONS, Case, make_case, oracle_records, run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FILES = ("crm/accounts.csv", "billing/invoices.csv", "billing/invoice_lines.csv", "billing/payments.csv")


def _assert_safe(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="kam-fuzz-") as tmp:
        outcome = run_case(case, Path(tmp))
    assert outcome.crashed is None, case.mutations
    assert outcome.rows_lost == 0 and outcome.errors == [], (case.mutations, outcome.errors)


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    picks=st.lists(st.tuples(st.sampled_from(FILES), st.sampled_from(sorted(MUTATIONS))), min_size=1, max_size=3),
)
def test_mutated_extracts_load_safely(seed: int, picks: list[tuple[str, str]]) -> None:
    """Any 1-3 mutations of a valid day: no exception but FileRejected, physical records = loaded +
    quarantined = rows in raw + rows in quarantine per loaded file, no half-applied day, 0600 copies."""
    _assert_safe(make_case(random.Random(seed), picks))


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_class_loads_safely(mutation: str) -> None:
    """Every mutation class once, on the invoice lines (the largest file), with the same guarantees."""
    _assert_safe(make_case(random.Random(mutation), [("billing/invoice_lines.csv", mutation)]))


def test_workbook_mutations_load_safely() -> None:
    """Corrupt, truncated, misnamed and header-on-row-3 workbooks: rejected cleanly or loaded, never a crash."""
    seen = set()
    rnd = random.Random(3)
    while seen != set(WORKBOOK_MUTATIONS):
        case = make_case(rnd, [])
        if case.mutations:
            seen.add(case.mutations[0].split(":")[1])
            _assert_safe(case)


def test_oracle_counts_records_like_rfc4180() -> None:
    """The independent counter the books are checked against: quoted line breaks, "" escapes, literal
    quotes inside unquoted fields, CR / CRLF / LF, blank lines."""
    assert oracle_records(b'h\n1,"a\nb"\n2,x""y\r\n\r\n3,"q""\n"\r4,27" tv') == 4
    assert oracle_records(b"") == 0 and oracle_records(b"h\n") == 0 and oracle_records(b"h\n\n\n") == 0
