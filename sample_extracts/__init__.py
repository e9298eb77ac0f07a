"""Deterministic, realistic sample extracts for the landing zone (`kam demo-data`).

    from sample_extracts import GeneratorOptions, generate
    summary = generate(GeneratorOptions(out=Path("data/landing"), accounts=300, months=36, seed=42))

The layout and formats follow docs/extracts.md and ingest.contract; same options -> same bytes.
"""

from sample_extracts.generate import already_generated, generate
from sample_extracts.options import GenerationSummary, GeneratorError, GeneratorOptions

__all__ = ["GenerationSummary", "GeneratorError", "GeneratorOptions", "already_generated", "generate"]
