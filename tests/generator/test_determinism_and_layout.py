"""Same options -> same bytes; the landing layout, headers and value formats of the contract."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from generator_test_support import day_folders, decode, read_entity_file
from openpyxl import load_workbook

from ingest.contract import ENTITIES, SOURCES, entity
from sample_extracts import GeneratorError, GeneratorOptions, generate

TINY = {"accounts": 50, "months": 13, "days": 5, "defects": 0.02}


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    """Two runs with the same options write byte-identical files (incl. xlsx and _defects.json)."""
    generate(GeneratorOptions(out=tmp_path / "a", seed=3, **TINY))
    generate(GeneratorOptions(out=tmp_path / "b", seed=3, **TINY))
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert any(name.endswith(".xlsx") for name in a)
    assert a == b


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    """Another seed changes the content of the data files."""
    generate(GeneratorOptions(out=tmp_path / "a", seed=3, **TINY))
    generate(GeneratorOptions(out=tmp_path / "b", seed=4, **TINY))
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["billing/2024-02-01/invoice_lines.csv"] != b["billing/2024-02-01/invoice_lines.csv"]
    assert a["crm/2024-02-01/accounts.csv"] != b["crm/2024-02-01/accounts.csv"]


def test_refuses_non_empty_output_folder(tmp_path: Path) -> None:
    """The generator never mixes its files into an existing landing zone."""
    (tmp_path / "stale.txt").write_text("x")
    with pytest.raises(GeneratorError, match="not empty"):
        generate(GeneratorOptions(out=tmp_path, **TINY))


def test_layout_initial_day_deltas_and_success(clean_run) -> None:
    """Initial folder on the day after the history (2023-01 + 24 months -> 2025-01-01), then one folder
    per delta day, each with an empty _SUCCESS and every entity file."""
    root, summary = clean_run
    expected = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05", "2025-01-06"]
    for source in SOURCES:
        folders = day_folders(root, source)
        assert [f.name for f in folders] == expected
        for folder in folders:
            assert (folder / "_SUCCESS").read_bytes() == b""
            names = {p.stem for p in folder.iterdir() if p.name != "_SUCCESS"}
            assert names == {e.name for e in ENTITIES if e.source == source}
    assert len(summary.folders) == 12
    assert summary.entity_rows()["invoice_lines"] > 1000


def test_headers_equal_contract_columns(clean_run) -> None:
    """Every file's header is exactly the contract's column list, in order."""
    root, _ = clean_run
    for e in ENTITIES:
        for folder in day_folders(root, e.source):
            csv_path = folder / f"{e.name}.csv"
            if csv_path.exists():
                header = decode(csv_path).splitlines()[0].split(",")
            else:
                header = [c.value for c in next(load_workbook(folder / f"{e.name}.xlsx").active.iter_rows())]
            assert tuple(header) == e.column_names, f"{folder.name}/{e.name}"


DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def test_value_formats_and_enums(clean_run) -> None:
    """Dates, timestamps, decimals, booleans and enum values are written as the contract says."""
    root, _ = clean_run
    for e in ENTITIES:
        for folder in day_folders(root, e.source):
            for row in read_entity_file(folder, e.name):
                for c in e.columns:
                    v = row[c.name]
                    if v == "":
                        assert c.nullable, f"{e.name}.{c.name} empty"
                        continue
                    pattern = {"date": DATE, "timestamp": TIMESTAMP, "decimal": DECIMAL, "rate": DECIMAL}.get(c.type)
                    assert pattern is None or pattern.match(v), f"{e.name}.{c.name}={v!r}"
                    if c.type == "bool":
                        assert v in ("true", "false")
                    if c.enum:
                        assert v in c.enum
    probabilities = [float(r["probability"]) for r in read_entity_file(root / "crm" / "2025-01-01", "opportunities")]
    assert min(probabilities) >= 0 and max(probabilities) <= 1
    assert entity("billing", "invoices").column("status").enum == ("issued", "void")
