"""The Assets the DAGs exchange: one per source, emitted when a source's landing days were loaded."""

from __future__ import annotations

from airflow.sdk import Asset

SOURCE_ASSETS: dict[str, Asset] = {
    source: Asset(name=f"kam_raw_{source}", uri=f"kam://warehouse/raw/{source}", group="kam")
    for source in ("billing", "crm")
}
#: emitted by kam_nightly's publish task: the serving warehouse was replaced
SERVING_ASSET = Asset(name="kam_serving", uri="kam://warehouse/serving", group="kam")


def source_asset(source: str) -> Asset:
    return SOURCE_ASSETS[source]
