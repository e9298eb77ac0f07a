"""What every pipeline step does before it starts (RunContext.step calls prepare_step).

- umask 077: what DuckDB, dbt and GX create in this process is private from the start;
- existing private state (build.duckdb and its WAL, builds/, dbt/ logs and compiled SQL, logs/,
  data_docs/, the lock file) is made 0600/0700, in case an older release or another tool created it 0644;
- the dbt step refuses to start without KAM_PII_KEY outside demo/test (settings.require_pii_key);
- a killed publish's leftovers are cleaned and serving's bookkeeping repaired
  (kam_warehouse.serving.recovery). Killed runs are marked `killed` by the run log itself
  (kam_warehouse.runlog) when the step writes its `running` row.
"""

from __future__ import annotations

from pathlib import Path

from kam_warehouse.permissions import make_private, private_umask, share_folder_only
from kam_warehouse.settings import Settings, require_pii_key

#: steps that read the PII key (dbt hashes contact data)
KEYED_STEPS = frozenset({"dbt_build"})


def private_state(settings: Settings) -> list[Path]:
    """Everything under the warehouse folder that only the pipeline's user may read."""
    from ingest.working import working_path

    wh = settings.warehouse_dir
    working = working_path(wh)  # ingest's DuckDB working file on a server warehouse: raw rows, contact data
    files = [settings.build_db, working]
    return [*files, *(f.with_name(f.name + ".wal") for f in files), settings.builds_dir,
            wh / "dbt", wh / "logs", settings.data_docs_dir, settings.lock_file]


def prepare_step(settings: Settings, *, step: str) -> None:
    from kam_warehouse.serving.recovery import recover

    private_umask()
    if step in KEYED_STEPS:
        require_pii_key()
    for path in private_state(settings):
        make_private(path)
    if settings.warehouse_dir.is_dir():
        share_folder_only(settings.warehouse_dir)  # 0750: the serving group reaches serving.duckdb, parquet/
        recover(settings)
