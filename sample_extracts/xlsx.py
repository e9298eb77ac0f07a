"""A deterministic accounts.xlsx: openpyxl stamps the save time into the workbook and the zip
entries; both are pinned here so the same rows give the same bytes."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime

from openpyxl import Workbook

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def xlsx_bytes(header: list[str], rows: Iterable[list[str | None]], stamp: datetime) -> bytes:
    """Cells are text exactly as in the CSV (empty field -> empty cell); `stamp` is used as the
    workbook's created/modified time."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("accounts")
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.properties.created = stamp
    wb.properties.creator = "kam demo-data"
    raw = io.BytesIO()
    wb.save(raw)
    return _pin_zip(raw.getvalue(), stamp)


def _pin_zip(data: bytes, stamp: datetime) -> bytes:
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\g<2>",
                                 content)
            pinned = zipfile.ZipInfo(info.filename, ZIP_TIME)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            dst.writestr(pinned, content)
    return out.getvalue()
