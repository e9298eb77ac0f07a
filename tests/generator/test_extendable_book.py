"""A book can be replayed night by night: `--days D+1` repeats the `--days D` landing zone and adds a day."""

from __future__ import annotations

from pathlib import Path

from sample_extracts import GeneratorOptions, generate

SMALL = {"accounts": 60, "months": 24, "start": "2023-01", "seed": 11}
#: written per run, not part of any day folder: they record the options and defects of the whole run
RUN_RECORDS = {"_generator.json", "_defects.json"}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in RUN_RECORDS}


def test_one_more_day_repeats_every_earlier_folder_byte_for_byte(tmp_path: Path) -> None:
    """Incremental benchmarks and night-by-night tests need "the same book plus one more day": every file
    of the D-day run (the full-history folder included) must be byte-identical in the D+1 run, and the
    D+1 run must add exactly one new day folder per source with some data in it."""
    for days in (0, 3):
        short, longer = tmp_path / f"d{days}", tmp_path / f"d{days + 1}"
        generate(GeneratorOptions(out=short, days=days, **SMALL))
        generate(GeneratorOptions(out=longer, days=days + 1, **SMALL))
        before, after = _files(short), _files(longer)
        changed = [rel for rel, data in before.items() if after.get(rel) != data]
        assert not changed, f"--days {days + 1} rewrote files of the --days {days} book: {changed[:5]}"
        added = sorted({rel.rsplit("/", 1)[0] for rel in set(after) - set(before)})
        assert len(added) == 2 and all(rel.split("/")[0] in ("billing", "crm") for rel in added), added
        new_rows = sum(data.count(b"\n") - 1 for rel, data in after.items()
                       if rel not in before and rel.endswith(".csv"))
        assert new_rows > 0, f"the added day of --days {days + 1} holds no records"
