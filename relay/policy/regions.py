"""Region → time zone table (Russia, Belarus, Kazakhstan) and region-name matching.

The table lives in ``relay/data/region_zones.csv`` (``code;name_ru;timezone;alt_codes;
alt_names``) and is read once, on first use. Rows without a code are names that appear in
the Russian numbering registry but have no ISO 3166-2 code of their own; they still give a
zone to numbering ranges. ``relay/data/region_districts.csv`` refines subjects that span
several zones (Sakha) by district name.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from relay.policy.tzcache import get_zone

__all__ = [
    "RegionRow",
    "district_timezone",
    "match_region",
    "name_key",
    "region_code_for_name",
    "region_rows",
    "region_timezone",
    "zone_for_region_name",
]

_TOKEN = re.compile(r"\w+")
# Words that only say "this is a city" and differ between sources ("г. Москва", "Город
# Москва", "ГФЗ Москва"); dropping them lets all forms meet on the same key.
_DROP = frozenset({"г", "гор", "город", "гфз"})
# Abbreviations used by FIAS/GAR-style names ("Челябинская обл", "Татарстан Респ").
_EXPAND: dict[str, tuple[str, ...]] = {
    "обл": ("область",),
    "респ": ("республика",),
    "ао": ("автономный", "округ"),
    "аобл": ("автономная", "область"),
}


@dataclass(frozen=True, slots=True)
class RegionRow:
    """One row of the region table."""

    code: str | None
    name: str
    timezone: str
    alt_codes: tuple[str, ...] = ()
    alt_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if get_zone(self.timezone) is None:
            raise ValueError(f"RegionRow.timezone must be an IANA zone, got {self.timezone!r}")
        if not self.name.strip():
            raise ValueError(f"RegionRow.name must not be empty, got {self.name!r}")


def name_key(text: str) -> frozenset[str]:
    """Reduce a region name to an order-, case-, ё- and punctuation-free set of words.

    A set (not a string) because sources disagree on word order ("Республика Татарстан" vs
    "Татарстан Респ"), on dashes and their spacing ("Улан - Удэ") and on parentheses
    ("Республика Саха (Якутия)", "Республика Саха /Якутия/").
    """
    words: set[str] = set()
    for token in _TOKEN.findall(text.lower().replace("ё", "е")):
        if token in _DROP or token == "_":
            continue
        words.update(_EXPAND.get(token, (token,)))
    return frozenset(words)


@dataclass(frozen=True, slots=True)
class _Tables:
    rows: tuple[RegionRow, ...]
    by_code: dict[str, RegionRow]
    by_key: dict[frozenset[str], RegionRow]
    # (key, row), most specific (longest) first, for "the text contains this name" matching.
    by_containment: tuple[tuple[frozenset[str], RegionRow], ...]
    districts: dict[str, tuple[tuple[frozenset[str], str], ...]]


def _read_csv(name: str) -> list[dict[str, str]]:
    path = resources.files("relay").joinpath("data", name)
    with path.open("r", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split("|") if part.strip())


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Load both CSV files once (lazily: importing the policy must stay cheap)."""
    rows = tuple(
        RegionRow(
            code=(raw["code"] or "").strip().upper() or None,
            name=raw["name_ru"].strip(),
            timezone=raw["timezone"].strip(),
            alt_codes=tuple(code.upper() for code in _split(raw.get("alt_codes"))),
            alt_names=_split(raw.get("alt_names")),
        )
        for raw in _read_csv("region_zones.csv")
    )
    by_code: dict[str, RegionRow] = {}
    by_key: dict[frozenset[str], RegionRow] = {}
    for row in rows:
        for code in ((row.code,) if row.code else ()) + row.alt_codes:
            if code in by_code:
                raise ValueError(f"duplicate region code in region_zones.csv, got {code!r}")
            by_code[code] = row
        for name in (row.name, *row.alt_names):
            # First row wins on a clash, so the file's order states the preference.
            by_key.setdefault(name_key(name), row)
    containment = tuple(
        sorted(by_key.items(), key=lambda item: sum(len(word) for word in item[0]), reverse=True)
    )
    districts: dict[str, list[tuple[frozenset[str], str]]] = {}
    for raw in _read_csv("region_districts.csv"):
        zone = raw["timezone"].strip()
        if get_zone(zone) is None:
            raise ValueError(f"region_districts.csv: unknown zone, got {zone!r}")
        districts.setdefault(raw["region_code"].strip().upper(), []).append(
            (name_key(raw["district"]), zone)
        )
    return _Tables(
        rows=rows,
        by_code=by_code,
        by_key=by_key,
        by_containment=containment,
        districts={code: tuple(items) for code, items in districts.items()},
    )


def region_rows() -> tuple[RegionRow, ...]:
    """Every row of the region table, in file order."""
    return _tables().rows


def region_timezone(region_code: str) -> str | None:
    """IANA zone for an ISO 3166-2 code ("RU-MOW", "BY-HM", "KZ-ALA", "RU-CR" …), or None."""
    if not isinstance(region_code, str):
        return None
    row = _tables().by_code.get(region_code.strip().upper())
    return row.timezone if row else None


def _candidates(text: str) -> list[str]:
    # "г. Улан - Удэ|Республика Бурятия": the subject is after the last "|", the town before.
    parts = [part for part in text.split("|") if part.strip()]
    return [text, *reversed(parts)] if len(parts) > 1 else [text]


@lru_cache(maxsize=8192)
def match_region(text: str) -> RegionRow | None:
    """Find the region row a free-text region name refers to, or None.

    Exact (normalised) names first, whole text then each ``|`` part from the right; then
    the most specific known name whose words all occur in the text, so that
    "Кемеровская область - Кузбасс" or "м.р-н Оймяконский, Республика Саха /Якутия/"
    still match. Cached: registry imports repeat the same few hundred names.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    tables = _tables()
    candidates = _candidates(text)
    for candidate in candidates:
        row = tables.by_key.get(name_key(candidate))
        if row is not None:
            return row
    for candidate in candidates[-1:] + candidates[:1]:
        words = name_key(candidate)
        if not words:
            continue
        for key, row in tables.by_containment:
            if key <= words:
                return row
    return None


def region_code_for_name(name: str) -> str | None:
    """ISO 3166-2 code for a Russian/Belarusian/Kazakh region name, or None.

    Accepts the forms of the numbering registry's "Регион" and "Территория ГАР" columns:
    "Краснодарский край", "г. Москва", "Москва и Московская область",
    "г. Улан - Удэ|Республика Бурятия" (the part after "|" decides) — case, spaces, dashes
    and ё do not matter.
    """
    row = match_region(name)
    return row.code if row else None


def zone_for_region_name(name: str) -> str | None:
    """IANA zone for a region name (also for registry names that have no ISO code)."""
    row = match_region(name)
    return row.timezone if row else None


def district_timezone(region_code: str | None, texts: Iterable[str]) -> str | None:
    """Zone of a district of a multi-zone subject named in any of ``texts``, or None.

    Only subjects listed in region_districts.csv (Sakha) have districts; for them the
    registry's territory names the district ("м.р-н Оймяконский|Республика Саха (Якутия)").
    """
    if not region_code:
        return None
    districts = _tables().districts.get(region_code.upper())
    if not districts:
        return None
    words: set[str] = set()
    for text in texts:
        if text:
            words.update(name_key(text))
    for key, zone in districts:
        if key <= words:
            return zone
    return None
