"""Small generated landing zones shared by the generator tests (built once per session in tmp)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sample_extracts import GenerationSummary, GeneratorOptions, generate

# the tests import their plain-csv reader (generator_test_support.py) from this folder
sys.path.insert(0, str(Path(__file__).parent))

SMALL = {"accounts": 60, "months": 24, "start": "2023-01", "days": 5}


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("clean") / "landing"
    return out, generate(GeneratorOptions(out=out, seed=7, **SMALL))


@pytest.fixture(scope="session")
def defect_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("defects") / "landing"
    return out, generate(GeneratorOptions(out=out, seed=7, defects=0.05, **SMALL))
