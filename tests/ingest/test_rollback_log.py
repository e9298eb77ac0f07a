"""The load's log says what was committed: a file whose rows were inserted in the day's transaction and
then rolled back (a later file of the same day failed) is never logged as "N rows loaded"."""

from __future__ import annotations

import logging

import pytest

import ingest.load as load
from ingest.errors import FileRejected


def test_a_day_rolled_back_after_a_partial_insert_logs_nothing_as_loaded(
    lz, db, rejected, query, monkeypatch, caplog
) -> None:
    """billing's invoices.csv is inserted, then invoice_lines.csv fails while it is applied: the day is
    rolled back; the log names invoices.csv as rolled back (not loaded), only crm's committed files are
    logged as loaded, and the report counts only crm's rows."""
    lz.write_day("crm", lz.DAY1, lz.valid_crm())
    lz.write_day("billing", lz.DAY1, lz.valid_billing(invoices=2, lines=4))
    real = load.apply_file

    def failing_lines(con, batch, read):
        result = real(con, batch, read)  # the rows are inserted in the day's transaction ...
        if read.entity.name == "invoice_lines":
            raise RuntimeError("disk full")  # ... and then the file fails
        return result

    monkeypatch.setattr(load, "apply_file", failing_lines)
    with caplog.at_level(logging.INFO, logger="ingest.load"), pytest.raises(FileRejected) as err:
        load.load_landing(lz.root, db, run_id="r1", rejected_dir=rejected)

    lines = [r.getMessage() for r in caplog.records if r.name == "ingest.load"]
    loaded = [m for m in lines if "loaded" in m and "(committed)" in m]
    assert loaded and all(m.startswith("crm/") for m in loaded), lines
    rolled_back = [m for m in lines if "rolled back, nothing of it committed" in m]
    assert rolled_back == ["billing 2025-01-01 rolled back, nothing of it committed: "
                           "billing/2025-01-01/invoices.csv (2 rows inserted, rolled back)"], lines
    assert query("SELECT count(*) FROM raw.billing__invoices") == [(0,)]
    report = err.value.report
    assert report is not None and report.rows_loaded == 3 and report.days_loaded == [("crm", lz.DAY1)]
