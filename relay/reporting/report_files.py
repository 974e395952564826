"""Detail exports of the message log as CSV or XLSX, streamed with bounded memory.

CSV is produced page by page straight into the response (UTF-8 with a BOM, so Excel opens
Cyrillic text correctly). XLSX is written with openpyxl's write-only workbook into a temporary
file, which is then streamed and removed: openpyxl cannot emit a zip incrementally, but the
write-only mode keeps memory flat however many rows there are. Cells that a spreadsheet would
read as a formula are prefixed with an apostrophe (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus as _S
from relay.reporting.message_log import LogFilter, iter_rows
from relay.storage.models import MessageHistory

HEADERS = (
    "message_id",
    "phone",
    "name",
    "status",
    "reason",
    "reason_detail",
    "channel",
    "category",
    "sender",
    "created_at",
    "not_before",
    "sent_at",
    "delivered_at",
    "updated_at",
    "segments",
    "cost",
    "currency",
    "campaign_id",
    "archived",
    "text",
)
_FORMULA_START = ("=", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show as text, never evaluate; phone numbers stay as they are."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_START) or (
        value[0] in "+-" and not value[1:].replace(" ", "").isdigit()
    ):
        return "'" + value
    return value


def _times(session: Session, ids: list[str]) -> dict[str, dict[str, datetime]]:
    """First `sent` and first `delivered`/`read` time per message of a page (one query)."""
    out: dict[str, dict[str, datetime]] = {}
    rows = session.execute(
        select(MessageHistory.message_id, MessageHistory.status, func.min(MessageHistory.at))
        .where(
            MessageHistory.message_id.in_(ids),
            MessageHistory.status.in_((_S.SENT, _S.DELIVERED, _S.READ)),
        )
        .group_by(MessageHistory.message_id, MessageHistory.status)
    )
    for mid, status, at in rows:
        key = "sent_at" if status == _S.SENT else "delivered_at"
        # the column is UTCDateTime, but min() loses the type on some databases
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo("UTC"))
        current = out.setdefault(mid, {}).get(key)
        if current is None or at < current:
            out[mid][key] = at
    return out


def export_rows(
    session: Session, f: LogFilter, zone: ZoneInfo, oldest_first: bool = False
) -> Iterator[list[Any]]:
    """Each matching message as a list of cells in HEADERS order (times in `zone`)."""

    def local(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    for page in iter_rows(session, f, oldest_first=oldest_first):
        times = _times(session, [r.id for r in page])
        for r in page:
            contact = (r.context or {}).get("contact") or {}
            customer = (r.context or {}).get("customer") or {}
            t = times.get(r.id, {})
            yield [
                r.id,
                r.phone,
                contact.get("name") or customer.get("name") or "",
                r.status,
                r.reason or "",
                r.reason_detail or "",
                r.channel,
                r.category,
                r.sender or "",
                local(r.created_at),
                local(r.not_before) if r.not_before and r.not_before.year < 9999 else "",
                local(t.get("sent_at")),
                local(t.get("delivered_at")),
                local(r.updated_at),
                r.segments,
                str(r.cost) if r.cost is not None else "",
                r.currency or "",
                r.campaign_id if r.campaign_id is not None else "",
                "yes" if r.archived else "",
                r.text,
            ]


def csv_chunks(rt: Any, f: LogFilter, zone: ZoneInfo, oldest_first: bool) -> Iterator[bytes]:
    """The CSV export in chunks of ~500 rows (its own session: it outlives the view)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    yield "\ufeff".encode() + _drain(buffer)
    with rt.session() as session:
        for n, row in enumerate(export_rows(session, f, zone, oldest_first), 1):
            writer.writerow([safe_cell(v) for v in row])
            if n % 500 == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def write_xlsx(rt: Any, f: LogFilter, zone: ZoneInfo, path: str, oldest_first: bool) -> int:
    """Write the export to an xlsx file at `path` (write-only mode); returns the row count."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("messages")
    ws.append(list(HEADERS))
    count = 0
    with rt.session() as session:
        for row in export_rows(session, f, zone, oldest_first):
            ws.append([safe_cell(v) for v in row])
            count += 1
    wb.save(path)
    return count


def file_chunks(path: str) -> Iterator[bytes]:
    """A file's bytes in 64 KB chunks; the file is removed afterwards."""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(64 * 1024):
                yield chunk
    finally:
        os.unlink(path)


def xlsx_file(rt: Any, f: LogFilter, zone: ZoneInfo, oldest_first: bool) -> str:
    """The XLSX export in a temporary file (the caller streams it with `file_chunks`)."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="relay-export-")
    os.close(fd)
    try:
        write_xlsx(rt, f, zone, path, oldest_first)
    except BaseException:
        os.unlink(path)
        raise
    return path
