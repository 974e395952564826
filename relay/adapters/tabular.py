"""Streamed reading of uploaded spreadsheets: xlsx (openpyxl read-only) and csv (csv module).

Uploads come from people's Excel: real xlsx, csv exported by a Russian Excel (cp1251, `;`),
csv from Google Sheets (UTF-8, `,`), sometimes a renamed file that is neither. Everything here
works on a file on disk and yields one row at a time, so a 100,000-row file never sits in
memory. A file that is not what it claims to be is a RelayError `invalid_file` (422), raised
before anything is written or, for damage deep inside a file, while the caller's transaction
is still open (so it rolls back).
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Generator, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from relay.errors import RelayError

XLSX, CSV = "xlsx", "csv"
SAMPLE_BYTES = 64 * 1024  # what the encoding and dialect guesses look at
CSV_DELIMITERS = ",;\t|"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, Word .doc …
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def invalid_file(message: str) -> RelayError:
    """The one error every unreadable upload turns into."""
    return RelayError("invalid_file", message, 422, {"file": [message]})


def detect_kind(path: Path, filename: str | None = None) -> str:
    """Return "xlsx" or "csv", judged from the bytes (the name only decides which error to give)."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    named_xlsx = (filename or "").lower().endswith((".xlsx", ".xlsm"))
    if not head.strip():
        raise invalid_file("the file is empty")
    if head.startswith(_OLE_MAGIC):
        raise invalid_file("this is an old Excel 97-2003 (.xls) file; save it as .xlsx or .csv")
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise invalid_file(f"the file looks like an xlsx but is damaged: {exc}") from exc
        if "xl/workbook.xml" not in names:
            raise invalid_file("the file is a zip archive, not an Excel workbook (.xlsx)")
        return XLSX
    if named_xlsx:
        raise invalid_file("the file is named .xlsx but is not an Excel workbook")
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise invalid_file("the file is neither an Excel workbook (.xlsx) nor a text csv")
    return CSV


def cell_text(value: Any) -> str:
    """A cell as trimmed text: Excel numbers without '.0', dates as ISO, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        # a phone typed into Excel is a number: 375291234567.0 must read as 375291234567
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


class _Sheet:
    """The first worksheet of an xlsx, read with openpyxl's streaming (read-only) parser.

    `load_workbook(read_only=True)` first scans every sheet for a <dimension> element; a file
    without one (openpyxl's own write-only output, many exporters) is then parsed once in full
    just to learn that, before the real read. Opening the workbook part by part with openpyxl's
    ExcelReader and feeding the first sheet to the same WorkSheetParser that read-only
    worksheets use reads the file exactly once, still streamed.
    """

    def __init__(self, path: Path, with_styles: bool = True) -> None:
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet

        self.reader = ExcelReader(path, read_only=True, data_only=True)
        try:
            self.reader.read_manifest()
            self.reader.read_workbook()
            member = next(
                (
                    rel.target
                    for _sheet, rel in self.reader.parser.find_sheets()
                    if rel.target in self.reader.valid_files and "chartsheet" not in rel.Type
                ),
                None,
            )
            if member is None:
                raise invalid_file("the Excel workbook has no worksheet")
            self.member: str = member
            if with_styles:
                self.reader.read_strings()
                apply_stylesheet(self.reader.archive, self.reader.wb)  # which cells are dates
        except BaseException:
            self.close()
            raise

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(Excel row number, values) for every row that has cells."""
        from openpyxl.worksheet._reader import WorkSheetParser

        wb = self.reader.wb
        with self.reader.archive.open(self.member) as src:
            parser = WorkSheetParser(
                src,
                self.reader.shared_strings,
                data_only=True,
                epoch=wb.epoch,
                # openpyxl's private attributes, which types-openpyxl leaves out
                date_formats=wb._date_formats,  # type: ignore[attr-defined]
                timedelta_formats=wb._timedelta_formats,  # type: ignore[attr-defined]
            )
            for number, cells in parser.parse():
                values: list[Any] = [None] * (cells[-1]["column"] if cells else 0)
                for cell in cells:
                    values[cell["column"] - 1] = cell["value"]
                yield number, values

    def count_rows(self) -> int:
        """<row> elements of the sheet, counted while decompressing (no XML parsing)."""
        count, tail = 0, b""
        with self.reader.archive.open(self.member) as fh:
            while chunk := fh.read(1 << 20):
                data = tail + chunk
                count += data.count(b"<row ") + data.count(b"<row>")
                tail = data[-5:]  # a tag split between chunks is counted in the next round
                count -= tail.count(b"<row ") + tail.count(b"<row>")
        return count + tail.count(b"<row ") + tail.count(b"<row>")

    def close(self) -> None:
        """Release the zip file."""
        self.reader.archive.close()


def estimate_rows(path: Path, kind: str) -> int:
    """How many rows the file has (header included), without parsing it.

    csv: newlines counted in 1 MB chunks; xlsx: the first sheet's <row> tags counted while
    decompressing. Only an estimate (for progress and the inline/background choice).
    """
    if kind == CSV:
        count, last = 0, b"\n"
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                count += chunk.count(b"\n")
                last = chunk[-1:]
        return count + (0 if last == b"\n" else 1)
    try:
        sheet = _Sheet(path, with_styles=False)
    except Exception:  # only an estimate; the real read reports a damaged file properly
        return 0
    try:
        return sheet.count_rows()
    except Exception:  # the same
        return 0
    finally:
        sheet.close()


def iter_rows(path: Path, kind: str) -> Generator[tuple[int, list[Any]], None, None]:
    """(row number from 1, cell values) for the first sheet / the whole csv, streamed.

    xlsx row numbers are Excel's own (rows Excel left out entirely are skipped), so a report
    points at the row the person sees.
    """
    return _xlsx_rows(path) if kind == XLSX else _csv_rows(path)


def _xlsx_rows(path: Path) -> Generator[tuple[int, list[Any]], None, None]:
    try:
        sheet = _Sheet(path)
    except RelayError:
        raise
    except Exception as exc:  # openpyxl raises anything on a bad workbook
        raise invalid_file(f"the Excel workbook cannot be opened: {exc}") from exc
    number = 0
    try:
        rows = sheet.rows()
        while True:
            try:
                number, values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # damaged XML deep inside the sheet
                raise invalid_file(
                    f"the Excel workbook is damaged after row {number}: {exc}"
                ) from exc
            yield number, values
    finally:
        sheet.close()


def detect_encoding(path: Path) -> str:
    """A BOM wins; otherwise UTF-8 if the whole file decodes as UTF-8, else cp1251.

    The whole file is checked (cheap, streamed): a UTF-8 guess from the first 64 KB could
    still fail on a Cyrillic name at row 80,000, half-way through an import.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith(_UTF16_BOMS):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"  # what a Russian Excel writes for "CSV (разделители — запятые)"
    return "utf-8"


def detect_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """csv.Sniffer over a sample, limited to real separators; `,` for a one-column file.

    The Sniffer can pick a separator that is merely frequent inside cells (a `,` in
    "Иванов, Иван" in a `;` file); a guess that does not split the first line is refused
    and the most frequent separator of the first line is taken instead.
    """
    if len(sample) >= SAMPLE_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # never hand the Sniffer half a line
    first = sample.splitlines()[0] if sample else ""
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
        if dialect.delimiter in first:
            dialect.doublequote = True  # Sniffer sometimes guesses False for Excel files
            return dialect
    except csv.Error:
        pass
    counts = {d: first.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])

    class _Guess(csv.excel):
        delimiter = best if counts[best] else ","

    return _Guess


def _csv_rows(path: Path) -> Generator[tuple[int, list[Any]], None, None]:
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        try:
            sample = fh.read(SAMPLE_BYTES)
        except UnicodeDecodeError as exc:  # bytes cp1251 has no letter for (0x98): not text
            raise invalid_file(f"the csv is neither UTF-8 nor cp1251 text: {exc}") from exc
        dialect = detect_dialect(sample)
        fh.seek(0)  # the utf-8-sig codec skips the BOM again after the rewind
        reader = csv.reader(fh, dialect)
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                # csv.Error: a cell over csv.field_size_limit() (128 KB) or a stray NUL byte
                raise invalid_file(f"the csv cannot be read after row {number}: {exc}") from exc
            number += 1
            yield number, values
