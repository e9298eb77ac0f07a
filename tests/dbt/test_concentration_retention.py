"""Concentration and retention marts over the hand-made book versus the plain-Python reference."""

from __future__ import annotations

import dbt_reference as ref
import pytest
from dbt_book import AS_OF, TABLES

FIGURES = ("active_count", "total_revenue", "top_20pct_share", "top_10_share", "count_for_80pct", "hhi", "gini")


def _reference_concentration() -> dict[tuple, dict[str, float]]:
    book = ref.recognise(TABLES, AS_OF)
    out = {}
    levels = {"account": book.revenue, "group": ref.roll_up(book.revenue, book.group)}
    for level, revenue in levels.items():
        rows = ref.spine(revenue, book.as_of_month)
        for m in {m for _, m in rows}:
            for window, attr in (("month", "revenue"), ("t12m", "revenue_t12m")):
                figures = ref.concentration([getattr(r, attr) for (_, mm), r in rows.items() if mm == m])
                if figures:
                    out[(m, level, window)] = figures
    return out


def test_concentration_matches_reference(book_db) -> None:
    """Every (month, level, window) of mart_revenue_concentration_monthly: active count, total,
    top-20% share with k = ceil(0.2 n), top-10 share, count for 80%, HHI and Gini as defined."""
    want = _reference_concentration()
    cols = ", ".join(FIGURES)
    got = {
        (m, lv, w): dict(zip(FIGURES, rest, strict=True))
        for m, lv, w, *rest in book_db.execute(
            f'select revenue_month, level, "window", {cols} from marts.mart_revenue_concentration_monthly'
        ).fetchall()
    }
    assert set(got) == set(want)
    for key, figures in want.items():
        for name, value in figures.items():
            assert float(got[key][name]) == pytest.approx(value, rel=1e-9, abs=1e-6), (key, name)


def test_lorenz_curve_ends_at_one(book_db) -> None:
    """The last Lorenz point of every curve is (1, 1)."""
    rows = book_db.execute(
        'select cumulative_entity_share, cumulative_revenue_share from marts.mart_revenue_lorenz l '
        'where point = (select max(point) from marts.mart_revenue_lorenz x where x.revenue_month = l.revenue_month '
        'and x.level = l.level and x."window" = l."window")').fetchall()
    assert rows
    assert all(e == pytest.approx(1) and r == pytest.approx(1) for e, r in rows)


def test_retention_matches_reference(book_db) -> None:
    """nrr_t12m, grr_t12m and logo_retention_t12m per month over the base of a year earlier; null
    where the base is empty."""
    book = ref.recognise(TABLES, AS_OF)
    rows = ref.spine(book.revenue, book.as_of_month)
    got = {m: (n, g, lo) for m, n, g, lo in book_db.execute(
        "select revenue_month, nrr_t12m, grr_t12m, logo_retention_t12m from marts.mart_retention_monthly").fetchall()}
    assert min(got) == min(m for _, m in rows)
    assert max(got) == book.as_of_month
    for m, values in got.items():
        want = ref.retention(rows, m)
        for value, name in zip(values, ("nrr_t12m", "grr_t12m", "logo_retention_t12m"), strict=True):
            if want[name] is None:
                assert value is None, (m, name)
            else:
                assert value == pytest.approx(want[name], rel=1e-9), (m, name)
    assert any(v[0] is not None for v in got.values())
