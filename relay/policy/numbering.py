"""Parsing the Russian numbering registry (Минцифры's ABC-3xx/4xx/8xx, DEF-9xx CSV files).

Pure: it reads lines it is given and yields ranges; storing them and the import command
belong to the storage layer. Files come as UTF-8 with a BOM (current) or cp1251 (older
copies), ``;``-separated, with 6 (``…;Оператор;Регион``), 7 (``…;Регион;ИНН``) or 8
(``…;Регион;Территория ГАР;ИНН``) columns.
"""

from __future__ import annotations

import codecs
import csv
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import IO

from relay.policy.regions import district_timezone, match_region
from relay.policy.tzcache import get_zone

__all__ = ["NumberRange", "iter_ranges", "lookup", "sorted_ranges", "to_national_number"]

_SUBSCRIBER = 10**7  # seven subscriber digits after the three-digit ABC/DEF code
_DASHES = frozenset({"", "-", "—", "–"})
# 800–809 are non-geographic (free phone, televoting): no zone even if a region is named.
_NON_GEOGRAPHIC = ("80",)

ErrorHandler = Callable[[int, str], None]


@dataclass(frozen=True, slots=True)
class NumberRange:
    """One registry row: national numbers ``start..end`` (inclusive, 10 digits as ints)."""

    prefix_code: str
    start: int
    end: int
    operator: str
    region: str
    region_code: str | None
    timezone: str | None

    def __post_init__(self) -> None:
        if not (len(self.prefix_code) == 3 and self.prefix_code.isdigit()):
            raise ValueError(f"NumberRange.prefix_code must be 3 digits, got {self.prefix_code!r}")
        low = int(self.prefix_code) * _SUBSCRIBER
        if not low <= self.start <= self.end < low + _SUBSCRIBER:
            raise ValueError(
                f"NumberRange {self.prefix_code} needs {low} <= start <= end < "
                f"{low + _SUBSCRIBER}, got {(self.start, self.end)!r}"
            )
        if self.timezone is not None and get_zone(self.timezone) is None:
            raise ValueError(f"NumberRange.timezone must be an IANA zone, got {self.timezone!r}")


@dataclass(frozen=True, slots=True)
class _Layout:
    operator: int
    region: int
    territory: int | None


_LAYOUT_BY_WIDTH = {6: _Layout(4, 5, None), 7: _Layout(4, 5, None), 8: _Layout(4, 5, 6)}


def _decoded_lines(
    stream: Iterable[str] | Iterable[bytes] | IO[bytes] | str | bytes,
) -> Iterator[str]:
    """Yield text lines from text lines, bytes lines or a binary file object.

    The encoding is chosen on the first line: a UTF-8 BOM (or valid UTF-8) means UTF-8,
    anything else cp1251. The header is Cyrillic, so the first line is a reliable witness;
    a later line that is not valid UTF-8 is still read as cp1251 rather than lost.
    """
    if isinstance(stream, str | bytes):
        stream = stream.splitlines(keepends=True)
    encoding: str | None = None
    first = True
    for raw in stream:
        if isinstance(raw, bytes):
            if encoding is None:
                if raw.startswith(codecs.BOM_UTF8):
                    encoding, raw = "utf-8", raw[len(codecs.BOM_UTF8) :]
                else:
                    encoding = "utf-8" if _is_utf8(raw) else "cp1251"
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError:
                line = raw.decode("cp1251", errors="replace")
        else:
            line = raw
        if first:
            line, first = line.lstrip("\ufeff"), False
        yield line


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _header_layout(cells: list[str]) -> _Layout | None:
    """The column layout named by a header row, or None when the row is data."""
    if not cells or cells[0].strip().isdigit():
        return None
    names = [cell.strip().lower() for cell in cells]

    def find(word: str) -> int | None:
        return next((i for i, name in enumerate(names) if word in name), None)

    operator, region = find("оператор"), find("регион")
    if operator is None or region is None:
        raise ValueError(f"registry header lacks Оператор/Регион columns, got {cells!r}")
    return _Layout(operator, region, find("территория"))


@lru_cache(maxsize=16384)
def _locate(region: str, territory: str) -> tuple[str | None, str | None]:
    """(region code, zone) for a row's Регион / Территория ГАР texts.

    "Территория ГАР" is tried first: it is filled in every row of current files, while
    "Регион" is sometimes a dash, and where the two disagree the GAR column is the one kept
    up to date. A district of a multi-zone subject (Sakha) refines the zone.
    """
    texts = [text for text in (territory, region) if text not in _DASHES]
    for text in texts:
        row = match_region(text)
        if row is not None:
            zone = district_timezone(row.code, texts) or row.timezone
            return row.code, zone
    return None, None


def iter_ranges(
    stream: Iterable[str] | Iterable[bytes] | IO[bytes] | str | bytes,
    *,
    on_error: ErrorHandler | None = None,
) -> Iterator[NumberRange]:
    """Yield a NumberRange for every data row of one registry file.

    ``stream`` is an iterable of text lines, an iterable of bytes lines or a binary file
    object (encoding detected). Malformed rows are skipped; pass ``on_error(line_no,
    message)`` to count or log them, or to raise and stop the import.
    """
    layout: _Layout | None = None
    reader = csv.reader(_decoded_lines(stream), delimiter=";")
    for cells in reader:
        if not cells or not any(cell.strip() for cell in cells):
            continue
        if layout is None:
            layout = _header_layout(cells)
            if layout is not None:
                continue
            layout = _LAYOUT_BY_WIDTH.get(len(cells))
            if layout is None:
                raise ValueError(
                    f"cannot tell the registry layout from a row of "
                    f"{len(cells)} columns, got {cells!r}"
                )
        number_range = _parse_row(cells, layout)
        if isinstance(number_range, NumberRange):
            yield number_range
        elif on_error is not None:
            on_error(reader.line_num, number_range)


def _parse_row(cells: list[str], layout: _Layout) -> NumberRange | str:
    """The range of one row, or a message saying why the row is unusable."""
    if len(cells) <= max(layout.operator, layout.region):
        return f"expected at least {max(layout.operator, layout.region) + 1} columns, got {cells!r}"
    code, low, high = (cell.strip() for cell in cells[:3])
    if not (len(code) == 3 and code.isdigit() and low.isdigit() and high.isdigit()):
        return f"expected a 3-digit code and two numbers, got {cells[:3]!r}"
    first, last = int(low), int(high)
    if not first <= last < _SUBSCRIBER:
        return f"expected From <= To < 10000000, got {(low, high)!r}"
    region = cells[layout.region].strip()
    territory = ""
    if layout.territory is not None and layout.territory < len(cells):
        territory = cells[layout.territory].strip()
    region_code, zone = _locate(region, territory)
    if code.startswith(_NON_GEOGRAPHIC):
        zone = None
    base = int(code) * _SUBSCRIBER
    return NumberRange(
        prefix_code=code,
        start=base + first,
        end=base + last,
        operator=cells[layout.operator].strip(),
        region=region if region not in _DASHES else territory,
        region_code=region_code,
        timezone=zone,
    )


def sorted_ranges(ranges: Iterable[NumberRange]) -> list[NumberRange]:
    """Ranges ordered by start, as ``lookup`` needs them."""
    return sorted(ranges, key=attrgetter("start"))


def to_national_number(value: int | str) -> int | None:
    """The 10-digit Russian national number of ``value`` as an int, or None.

    Accepts 9161234567, "9161234567", "+79161234567", "79161234567", "89161234567" and
    the same with spaces, dashes or brackets.
    """
    if isinstance(value, bool):
        return None
    digits = str(value) if isinstance(value, int) else "".join(c for c in value if c.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10 or not digits.isdigit():
        return None
    return int(digits)


_START = attrgetter("start")


def lookup(ranges_sorted: Sequence[NumberRange], national_number: int | str) -> NumberRange | None:
    """The range holding ``national_number`` (any form ``to_national_number`` accepts),
    or None when it falls in a gap.

    ``ranges_sorted`` must be ordered by ``start`` (``sorted_ranges``) and not overlap,
    as registry ranges do not.
    """
    number = to_national_number(national_number)
    if number is None:
        return None
    index = bisect_right(ranges_sorted, number, key=_START) - 1
    if index >= 0 and ranges_sorted[index].end >= number:
        return ranges_sorted[index]
    return None
