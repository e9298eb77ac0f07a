"""The run log file (`<warehouse>/logs/<run>.log`) keeps what an operator reads and drops library chatter."""

from __future__ import annotations

import logging
from pathlib import Path

from kam_warehouse import console


def test_run_log_keeps_our_lines_and_warnings_but_not_gx_info_chatter(tmp_path: Path) -> None:
    """A gate used to write ~300 GX INFO lines ("Skipping registering function ...") between the steps' own
    lines; they stay out of the file, while GX's warnings and every kam / dbt INFO line still go in."""
    console.configure(verbose=False)  # as every kam command starts: the root logger passes INFO on
    with console.log_file(tmp_path, "run-1") as path:
        logging.getLogger("great_expectations._docs_decorators").info("Skipping registering function get_context")
        logging.getLogger("great_expectations.expectations.expectation").info("_get_default_value called")
        logging.getLogger("great_expectations.core").warning("a GX warning that matters")
        logging.getLogger("expectations.gx_runner").info("GX evaluated 5 expectations")
        logging.getLogger(console.DBT_LOGGER).info("1 of 261 START sql table model")
        logging.getLogger("great_expectations_like_but_ours").info("a logger that only starts alike")

    text = path.read_text(encoding="utf-8")
    assert "Skipping registering function" not in text
    assert "_get_default_value" not in text
    assert "a GX warning that matters" in text
    assert "GX evaluated 5 expectations" in text
    assert "1 of 261 START" in text
    assert "a logger that only starts alike" in text
