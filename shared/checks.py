"""Small validation helpers shared by the self-validating dataclasses in `shared`.

Each raises ValueError(f"... got {value!r}") so a caller sees the offending value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CURRENCY_RE = re.compile(r"\A[A-Z]{3}\Z")  # ISO 4217 alpha code


def check_text(name: str, value: object, *, required: bool = False, max_len: int = 255) -> None:
    """Raise ValueError unless `value` is None (when allowed) or a non-blank str of <= max_len."""
    if value is None:
        if required:
            raise ValueError(f"{name} is required, got None")
        return
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must not be blank, got {value!r}")
    if len(value) > max_len:
        raise ValueError(f"{name} must be at most {max_len} characters, got {len(value)!r}")


def check_choice(
    name: str, value: object, choices: tuple[str, ...], *, optional: bool = False
) -> None:
    """Raise ValueError unless `value` is one of `choices` (or None when optional)."""
    if value is None and optional:
        return
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def is_valid_zone(name: str) -> bool:
    """True when `name` is an IANA time zone known to zoneinfo (tzdata)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: path-like or malformed keys
        return False
    return True


def is_http_url(value: str) -> bool:
    """Loose absolute-URL check for the dataclasses; the wire schema checks more strictly."""
    return re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value) is not None


def utc_datetime(name: str, value: object, *, optional: bool) -> datetime | None:
    """Return `value` converted to UTC; raise ValueError when it is naive or not a datetime."""
    # Times are compared in UTC everywhere; a naive time has no defined instant, so refuse it.
    if value is None and optional:
        return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def check_money(prefix: str, total: object, currency: object) -> None:
    """Check an amount (finite Decimal) and its currency (ISO 4217), both optional."""
    if total is not None and not (isinstance(total, Decimal) and total.is_finite()):
        raise ValueError(f"{prefix}.total must be a finite Decimal, got {total!r}")
    if currency is not None and not (isinstance(currency, str) and CURRENCY_RE.fullmatch(currency)):
        raise ValueError(f"{prefix}.currency must be an ISO 4217 code, got {currency!r}")


def check_url(name: str, value: object) -> None:
    """Check an optional http(s) URL of at most 2048 characters."""
    check_text(name, value, max_len=2048)
    # check_text let only None or a str through
    if isinstance(value, str) and not is_http_url(value):
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")


def flatten_errors(errors: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Turn a nested error dict into (dotted path, message) pairs, in order."""
    pairs: list[tuple[str, str]] = []
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            pairs.extend(flatten_errors(value, path))
        else:
            pairs.extend((path, message) for message in value)
    return pairs
