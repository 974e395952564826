"""Streamed writing of downloads: csv line by line, xlsx through openpyxl's write-only mode.

Rows come from generators that page through the database, so an export of a million-row
stop-list holds one page at a time. Spreadsheet software runs cells that start with `=`
(and `+ - @` followed by a formula): in csv such text gets a leading `'` (phone numbers such as
`+375…` are left as they are); in xlsx every text cell is written as a string, never a formula.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")
_PLAIN_NUMBER = re.compile(r"\A[+-]?[\d\s().-]*\Z")  # a phone or a number: not a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_BYTES = 64 * 1024

Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def safe_text(value: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (CSV/formula injection)."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return safe_text(value)
    return value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 csv with a BOM (so Excel shows Cyrillic right), yielded in ~64 KB pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([_plain(v) for v in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: write UTC wall time and say so in the header
        return value.replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        # XML 1.0 cannot hold control characters (a client may have stored one): each becomes
        # U+FFFD, so the download still opens and shows where something was dropped
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value  # text stays exact: write_xlsx marks it a string cell, never a formula


def write_xlsx(sheets: Iterable[Sheet]) -> BinaryIO:
    """Write the sheets to a temporary xlsx (write-only mode: constant memory); return it open.

    The zip container needs a seekable file, so the workbook goes to disk first. The file is
    unlinked before it is returned: the open handle keeps it readable, and nothing is left
    behind even when the client goes away before the download starts.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    fd, path = tempfile.mkstemp(prefix="relay-export-", suffix=".xlsx")
    os.close(fd)
    try:
        for title, header, rows in sheets:
            sheet = book.create_sheet(title[:31])
            sheet.append(list(header))
            for row in rows:
                cells = []
                for value in row:
                    cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
                    if isinstance(value, str):
                        cell.data_type = "s"  # never a formula, whatever the text starts with
                    cells.append(cell)
                sheet.append(cells)
        book.save(path)
        return open(path, "rb")  # noqa: SIM115 — the caller streams and closes it
    finally:
        os.unlink(path)


def file_chunks(fh: BinaryIO) -> Iterator[bytes]:
    """Stream an open file in 64 KB pieces, closing it after the last one."""
    try:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk
    finally:
        fh.close()
