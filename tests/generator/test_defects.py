"""`--defects`: every class of ingest.contract.DEFECT_OUTCOMES is injected, and every entry of
_defects.json is really present in the named file and line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from generator_test_support import decode, latest

from ingest.contract import DEFECT_OUTCOMES, entity


def _manifest(root) -> dict:
    return json.loads((root / "_defects.json").read_text(encoding="utf-8"))


def _physical_line(root, rel: str, line: int) -> tuple[list[str], list[str], str]:
    text = decode(root / rel)
    lines = text.split("\n")
    header = next(csv.reader([lines[0]]))
    return header, next(csv.reader([lines[line - 1]])), text


def test_every_defect_class_injected(defect_run) -> None:
    """Each class appears at least once with its contract outcome; file-level ones only in delta
    folders, at most one per day, after the days with row-level defects."""
    root, summary = defect_run
    defects = _manifest(root)["defects"]
    assert {d["class"] for d in defects} == set(DEFECT_OUTCOMES)
    assert all(d["outcome"] == DEFECT_OUTCOMES[d["class"]] for d in defects)
    assert summary.defects == {c: sum(d["class"] == c for d in defects) for c in DEFECT_OUTCOMES}
    file_level = [d for d in defects if d["outcome"] == "reject_file"]
    file_days = [d["file"].split("/")[1] for d in file_level]
    assert len(file_days) == len(set(file_days))
    row_days = {d["file"].split("/")[1] for d in defects if d["outcome"] == "quarantine"}
    assert "2025-01-01" not in row_days | set(file_days)
    assert max(row_days) < min(file_days)


def test_each_listed_row_defect_is_present(defect_run) -> None:
    """The named physical line really carries the defect in the named column."""
    root, _ = defect_run
    known_accounts = set(latest(root, "crm", "accounts", "account_id"))
    for d in _manifest(root)["defects"]:
        if d["outcome"] != "quarantine":
            continue
        header, row, text = _physical_line(root, d["file"], d["line"])
        assert row[0] == d["key"]
        if d["class"] == "truncated_last_line":
            assert not text.endswith("\n") and d["line"] == len(text.split("\n"))
            assert len(row) < len(header)
            continue
        value = row[header.index(d["column"])]
        if d["class"] == "bad_date":
            with pytest.raises(ValueError):
                date.fromisoformat(value)
        elif d["class"] == "non_numeric_amount":
            with pytest.raises(ValueError):
                float(value)
        elif d["class"] == "negative_quantity":
            assert float(value) < 0
        elif d["class"] == "unknown_account":
            assert value not in known_accounts
        elif d["class"] == "duplicate_key_conflict":
            _, other, _ = _physical_line(root, d["file"], d["related_line"])
            assert other[0] == row[0] and other != row


def test_each_listed_file_defect_is_present(defect_run) -> None:
    """Empty files are 0 bytes, wrongly encoded billing files do not decode as UTF-8, and files
    missing a required column really lack it in the header."""
    root, _ = defect_run
    for d in _manifest(root)["defects"]:
        if d["outcome"] != "reject_file":
            continue
        path = root / d["file"]
        source, _, name = d["file"].split("/")
        if d["class"] == "empty_file":
            assert path.stat().st_size == 0
        elif d["class"] == "wrong_encoding":
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in path.read_bytes().decode("gb18030"))
        else:
            header = next(csv.reader(io.StringIO(decode(path))))
            contract = entity(source, name.split(".")[0])
            assert d["column"] in contract.column_names and d["column"] not in header
            assert not contract.column(d["column"]).nullable


def test_clean_run_lists_no_defects(clean_run) -> None:
    """Without --defects the manifest is empty and nothing is malformed."""
    root, summary = clean_run
    assert _manifest(root) == {"seed": 7, "rate": 0.0, "defects": []}
    assert summary.defects == {}
    for path in root.glob("*/*/*.csv"):
        assert path.stat().st_size > 0 and decode(path).endswith("\n")
