"""Cached ZoneInfo look-ups shared by every module of the policy core."""

from __future__ import annotations

from datetime import UTC
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["UTC", "get_zone"]


@lru_cache(maxsize=2048)
def get_zone(name: str) -> ZoneInfo | None:
    """Return the ZoneInfo for an IANA name, or None when the name is not a known zone.

    Cached because ``ZoneInfo(name)`` costs a few microseconds even when the zone is in
    ZoneInfo's own cache, and the policy asks for the same few dozen zones all the time.
    Bounded because explicit zone names come from CRMs and may be any junk; the IANA
    database has ~600 names, so every real zone still fits.
    """
    if not isinstance(name, str) or not name or name != name.strip():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: malformed keys such as "../etc/passwd"; OSError: unreadable files.
        return None
