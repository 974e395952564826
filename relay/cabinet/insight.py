"""Helpers of the insight pages (Detail, Statistics, Replies, Explain): times that the use
cases give as ISO strings, shown in the tenant's zone and the user's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relay.cabinet.i18n import local_time


def when(value: Any, fmt: str = "short") -> str:
    """local_time for a datetime or an ISO 8601 string ("" for None)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return local_time(value, fmt)
