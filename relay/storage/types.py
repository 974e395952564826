"""Column types shared by the models.

SQLite has no time-zone aware timestamp, so every datetime is stored as naive UTC and handed
back as an aware UTC datetime. PostgreSQL gets the same treatment so both behave identically.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random 32-hex-character id; message ids go to gateways as the client reference."""
    return secrets.token_hex(16)


def new_ids(count: int) -> list[str]:
    """`count` ids like `new_id`'s from one read of the system's randomness: a read releases
    the interpreter lock, and a planner making ids one by one waits for it again each time
    while the chunk writer (another thread) runs."""
    raw = secrets.token_hex(16 * count)
    return [raw[i : i + 32] for i in range(0, 32 * count, 32)]


def search_key(text: str | None) -> str | None:
    """A name as searched: NFKC, Unicode case-folded, "ё" read as "е".

    Stored next to the name and compared with the query's key, so a search is case-insensitive
    for every script, the same on SQLite (whose LIKE and lower() fold ASCII only) as on
    PostgreSQL (whose lower() depends on the database's locale).
    """
    if text is None:
        return None
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime cannot be stored, got {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class JSONText(TypeDecorator[Any]):
    """JSON stored as text: portable between SQLite and PostgreSQL, keeps key order."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)
