"""Test files for imports: small xlsx/csv in memory, and a 100,000-row address book on disk.

The big book is written with openpyxl's write-only mode (constant memory) and mixes what real
uploads contain: numbers typed as text in three spellings and as Excel numbers, birthdays as
Excel dates and as dd.mm.yyyy text, about 1% bad numbers and some duplicates.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

BIG_HEADER = ["Телефон", "ФИО", "Дата рождения", "Город", "Бонусы"]


def xlsx_bytes(rows: list[list[Any]], title: str = "Лист1") -> bytes:
    """A small real xlsx with `rows` on its first sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(
    rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",", bom: bool = False
) -> bytes:
    """A csv as Excel or a script would write it (cp1251 + `;` is Russian Excel's default)."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@dataclass(frozen=True)
class BigBook:
    """What a generated book holds, so a test knows what must arrive."""

    path: Path
    rows: int
    bad: int
    duplicates: int

    @property
    def good(self) -> int:
        """Rows that must become contacts."""
        return self.rows - self.bad - self.duplicates


def big_phone(i: int) -> str:
    """The i-th valid Belarusian mobile of the big book, in E.164."""
    return f"+37529{2_000_000 + i}"


def _spelling(i: int) -> Any:
    national = 2_000_000 + i
    match i % 4:
        case 0:
            return f"+375 29 {national}"
        case 1:
            return f"80 29 {str(national)[:3]}-{str(national)[3:5]}-{str(national)[5:]}"
        case 2:
            return 375_290_000_000 + national  # typed into Excel: a number cell
        case _:
            return f"375 (29) {national}"


def write_big_book(
    path: Path, rows: int = 100_000, bad_every: int = 100, dup_every: int = 500
) -> BigBook:
    """Write an address book of `rows` data rows (plus a header) in write-only mode.

    Every `bad_every`-th row has an unusable number (~1%), every `dup_every`-th repeats the
    number of the row before it.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Контакты")
    sheet.append(BIG_HEADER)
    bad = duplicates = 0
    for i in range(rows):
        if i % bad_every == bad_every - 1:
            phone: Any = "12-34" if (i // bad_every) % 2 else "+1 202 555 0143"
            bad += 1
        elif i % dup_every == dup_every - 2 and i > 0:
            phone = _spelling(i - 1)
            duplicates += 1
        else:
            phone = _spelling(i)
        if i % 3 == 0:
            birthday: Any = datetime(1970 + i % 40, 1 + i % 12, 1 + i % 28)
        elif i % 3 == 1:
            birthday = f"{1 + i % 28:02d}.{1 + i % 12:02d}.{1970 + i % 40}"
        else:
            birthday = None
        sheet.append([phone, f"Клиент {i}", birthday, "Минск" if i % 2 else "Гомель", i % 977])
    book.save(path)
    return BigBook(path=path, rows=rows, bad=bad, duplicates=duplicates)
