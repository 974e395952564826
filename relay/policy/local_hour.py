"""Sending at a wall-clock time in the recipient's own zone ("11:00 in the recipient's time").

Pure: the zones come from `resolve_timezones` (docs/architecture.md, 'Time zones'), the
moment to start from is an argument. With several candidate zones the rule is as strict as
quiet hours: the release is the first moment at which the wall clock has reached the time on
the same local day in *every* candidate zone, so nobody gets the message before their own
11:00 — for a Russian mobile with 16 candidates that is 11:00 in the westernmost one.
Quiet hours still apply afterwards, in the decision itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from relay.policy.tzcache import UTC, get_zone

__all__ = ["parse_wall_time", "release_at"]


def parse_wall_time(value: str) -> time:
    """`HH:MM` as a time; ValueError naming the value otherwise."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"expected a time as HH:MM, got {value!r}")
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise ValueError(f"expected a time as HH:MM, got {value!r}")
    return time(hour, minute)


def _instant(zone_name: str, day: date, wall: time) -> datetime:
    zone = get_zone(zone_name)
    if zone is None:
        raise ValueError(f"unknown time zone, got {zone_name!r}")
    local = datetime.combine(day, wall).replace(tzinfo=zone, fold=0)
    return local.astimezone(UTC)


def release_at(zones: Sequence[str], after: datetime, wall: time) -> datetime:
    """The first moment ≥ `after` at which it is `wall` or later, on one local day, in every
    zone of `zones` (UTC, aware)."""
    if after.utcoffset() is None:
        raise ValueError(f"after must be a timezone-aware datetime, got {after!r}")
    if not zones:
        raise ValueError("at least one time zone is needed")
    start = after.astimezone(UTC).date()
    for offset in range(-1, 3):
        day = start + timedelta(days=offset)
        moment = max(_instant(name, day, wall) for name in zones)
        if moment >= after:
            return moment
    raise AssertionError("a local day within three days always qualifies")  # pragma: no cover
