"""Every defect the sample generator injects (`_defects.json`) gets the contract's outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.contract import DEFECT_OUTCOMES
from ingest.errors import FileRejected
from ingest.load import load_landing

generator = pytest.importorskip("sample_extracts")

Query = Callable[[str], list[tuple]]


def test_generated_defects_are_quarantined_or_rejected(
    tmp_path: Path, db: Path, rejected: Path, query: Query
) -> None:
    """Row-level defects land in raw.quarantine at their file and line with the class as reason prefix
    (both rows of a conflicting duplicate); each file-level defect rejects its file. Rejected files are
    re-delivered without the bad entity (the source's fix) until the whole landing zone loads."""
    landing = tmp_path / "landing"
    generator.generate(
        generator.GeneratorOptions(out=landing, accounts=40, months=13, seed=3, days=5, defects=0.05)
    )
    defects = json.loads((landing / "_defects.json").read_text())["defects"]
    assert {d["class"] for d in defects} == set(DEFECT_OUTCOMES)

    rejections: dict[str, str] = {}
    for attempt in range(len(defects) + 1):
        try:
            load_landing(landing, db, run_id=f"r{attempt}", rejected_dir=rejected)
            break
        except FileRejected as exc:
            rejections[exc.file] = exc.problem
            assert (rejected / exc.file).is_file()
            (landing / exc.file).unlink()  # re-delivery of that day without the broken entity file
    quarantine = query(
        "SELECT file_path, line_number, reason FROM raw.quarantine WHERE line_number IS NOT NULL"
    )
    for d in defects:
        if d["outcome"] == "reject_file":
            assert rejections[d["file"]].startswith(f"{d['class']}: "), d
            continue
        lines = {d["line"], d.get("related_line", d["line"])}
        hits = {
            line for f, line, reason in quarantine if f == d["file"] and reason.startswith(f"{d['class']}: ")
        }
        assert lines <= hits, d
    assert len(rejections) == sum(d["outcome"] == "reject_file" for d in defects)
    assert query(
        "SELECT count(*) FROM raw.load_manifest WHERE status = 'loaded' "
        "AND rows_read <> rows_loaded + rows_quarantined"
    ) == [(0,)]
