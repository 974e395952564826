"""Quiet hours in the recipient's local time, across one or several candidate zones.

The first allowed instant is found by jumping, not by scanning minutes: while some zone is
inside its quiet window, the answer cannot come before that zone's next end-of-window, so
the clock is moved there; when no zone objects, that instant is the answer. This needs
only a couple of passes over the zones, even for the 16 candidates of a Russian mobile.

Within one UTC hour in which no zone changes its offset, the outcome only changes where some
zone's wall clock crosses the window's start, its end or midnight, or where an end-of-window
instant lies. The hour is therefore cut at those points once (``_hour_plan``), the jumping is
done once per piece, and a decision looks its piece up by bisection. Moments very close to a
cut, and hours with a summer-time change, take the exact path (docs/architecture.md,
'Caches on the hot path').
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from relay.policy.tzcache import UTC, get_zone

__all__ = ["QuietSpan", "first_quiet_zones", "in_quiet_hours", "next_allowed", "quiet_span"]

HORIZON = timedelta(days=3)
_HORIZON_SECONDS = HORIZON.total_seconds()
# A moment closer than this to a cut of its hour takes the exact path: the cuts are computed
# in floating point, as the exact path's comparisons are, and may differ from them by far less
# than a microsecond.
_EDGE = 1e-3
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """True when the local wall-clock time is inside ``[start, end)``.

    The window may wrap midnight (23:00–07:00); ``start == end`` means no quiet hours.
    """
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _ceil_minute(moment: datetime) -> datetime:
    if moment.second or moment.microsecond:
        return moment.replace(second=0, microsecond=0) + _MINUTE
    return moment


@lru_cache(maxsize=16384)
def _end_instant(zone_name: str, day: date, end: time) -> datetime:
    """The first UTC instant at which ``zone_name``'s wall clock reaches ``end`` on ``day``.

    Cached: the same (zone, day, end) triples are asked for by every deferred message of
    the day. Handles both DST edge cases:
    - ambiguous time (clocks go back): the earlier occurrence (fold=0) is the first one;
    - missing time (clocks go forward over ``end``): the window ends at the jump itself,
      since the clock moves from before ``end`` straight to after it.
    """
    zone = get_zone(zone_name)
    assert zone is not None  # callers pass validated names
    naive = datetime.combine(day, end)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first <= second:
        return first  # normal time (equal) or ambiguous time (first occurrence)
    # A gap: fold=1 maps before the jump and fold=0 after it; the jump lies in between.
    return _transition_between(zone, second, first)


def _transition_between(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The UTC instant in (low, high] where ``zone``'s offset changes (bisection, to the
    second; at most ~12 steps for a one-hour jump)."""
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def _seconds(value: time) -> float:
    return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6


def _quiet_seconds(local: float, start: float, end: float) -> bool:
    """``in_quiet_hours`` on seconds since local midnight (start != end)."""
    if start < end:
        return start <= local < end
    return local >= start or local < end


@lru_cache(maxsize=65536)
def _hour_offset(zone: ZoneInfo, hour: int) -> int | None:
    """The zone's UTC offset in seconds throughout UTC hour ``hour`` (hours since the
    epoch), or None when it changes inside that hour.

    This is the hot path: 16 candidate zones are checked for nearly every decision, and a
    cached offset turns each check into arithmetic instead of a datetime conversion. Zones
    change offset at most once in an hour, so equal offsets at both ends mean no change.
    """
    first = datetime.fromtimestamp(hour * 3600, UTC).astimezone(zone).utcoffset()
    last = datetime.fromtimestamp(hour * 3600 + 3599, UTC).astimezone(zone).utcoffset()
    if first != last or first is None:
        return None
    return int(first.total_seconds())


def _local_seconds(zone: ZoneInfo, stamp: float) -> float:
    """Seconds since local midnight in ``zone`` at POSIX time ``stamp``."""
    offset = _hour_offset(zone, int(stamp // 3600))
    if offset is None:  # the hour of a DST change: do it the slow, exact way
        local = datetime.fromtimestamp(stamp, UTC).astimezone(zone)
        return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return (stamp + offset) % 86400


@lru_cache(maxsize=1024)
def _zone_infos(zones: tuple[str, ...]) -> tuple[tuple[str, ZoneInfo], ...]:
    infos = []
    for name in zones:
        zone = get_zone(name)
        if zone is None:
            raise ValueError(f"unknown time zone, got {name!r}")
        infos.append((name, zone))
    if not infos:
        raise ValueError(f"at least one time zone is needed, got {zones!r}")
    return tuple(infos)


def _next_end_after(name: str, zone: ZoneInfo, stamp: float, end: time) -> float:
    """The first end-of-window instant strictly after ``stamp`` in this zone."""
    day = datetime.fromtimestamp(stamp, UTC).astimezone(zone).date()
    for offset in range(3):  # today's end may be past already; tomorrow's never is
        candidate = _end_stamp(name, day + offset * _DAY, end)
        if candidate > stamp:
            return candidate
    raise AssertionError("no end of quiet hours within three local days")  # pragma: no cover


@lru_cache(maxsize=16384)
def _end_stamp(name: str, day: date, end: time) -> float:
    """``_end_instant`` as a POSIX time rounded up to the whole minute."""
    return _ceil_minute(_end_instant(name, day, end)).timestamp()


@lru_cache(maxsize=65536)
def _distinct_offsets(zones: tuple[str, ...], hour: int) -> tuple[tuple[int | None, int], ...]:
    """(offset, index of its first zone) for each distinct offset of ``zones`` during UTC
    hour ``hour``; None offsets (a change inside the hour) are kept per zone.

    The 16 candidates of a Russian mobile have 11 distinct offsets, and one cached tuple
    per hour replaces 16 look-ups per check.
    """
    seen: set[int] = set()
    result: list[tuple[int | None, int]] = []
    for index, (_, zone) in enumerate(_zone_infos(zones)):
        offset = _hour_offset(zone, hour)
        if offset is None or offset not in seen:
            result.append((offset, index))
            if offset is not None:
                seen.add(offset)
    return tuple(result)


def _first_quiet(zones: tuple[str, ...], stamp: float, low: float, high: float) -> int:
    """Index of a zone in which ``stamp`` is inside quiet hours, or -1 when none is."""
    infos = _zone_infos(zones)
    wraps = low > high
    for offset, index in _distinct_offsets(zones, int(stamp // 3600)):
        if offset is None:
            local = _local_seconds(infos[index][1], stamp)
        else:
            local = (stamp + offset) % 86400
        if (local >= low or local < high) if wraps else (low <= local < high):
            return index
    return -1


@dataclass(frozen=True, slots=True, eq=False)
class QuietSpan:
    """A stretch of time inside quiet hours in some of the zones, with the same outcome
    throughout: which zones are quiet and when the first moment allowed in all of them is."""

    zones: tuple[str, ...]  # the zones inside quiet hours, in the order given
    until: float  # POSIX time of the first allowed moment; inf when it is beyond reach
    not_before: datetime | None  # ``until`` as an aware UTC datetime (None for inf)


def _span_at(
    zones: tuple[str, ...], stamp: float, low: float, high: float, end: time, limit: float
) -> QuietSpan | None:
    """The exact outcome at ``stamp``: None when no zone is inside quiet hours; else the quiet
    zones and the end of the jumps, inf once a jump passes ``limit``."""
    infos = _zone_infos(zones)
    quiet = _first_quiet(zones, stamp, low, high)
    if quiet < 0:
        return None
    names = tuple(
        name for name, zone in infos if _quiet_seconds(_local_seconds(zone, stamp), low, high)
    )
    while quiet >= 0:
        # Nothing before this zone's end of quiet hours can be allowed everywhere.
        name, zone = infos[quiet]
        stamp = _next_end_after(name, zone, stamp, end)
        if stamp > limit:
            return QuietSpan(names, math.inf, None)
        quiet = _first_quiet(zones, stamp, low, high)
    return QuietSpan(names, stamp, datetime.fromtimestamp(stamp, UTC))


@dataclass(frozen=True, slots=True, eq=False)
class _HourPlan:
    cuts: tuple[float, ...]  # the hour's start, the points where the outcome may change, its end
    spans: tuple[QuietSpan | None, ...]  # the outcome between consecutive cuts


@lru_cache(maxsize=8192)
def _hour_plan(zones: tuple[str, ...], start: time, end: time, hour: int) -> _HourPlan | None:
    """UTC hour ``hour`` cut into pieces of equal outcome; None when a zone changes its offset
    inside the hour (then every moment of it takes the exact path).

    The cuts are where a zone's wall clock reaches the window's start, its end or midnight
    (the local day decides which end comes next) and every end-of-window instant a jump can
    land on. Between two cuts the set of quiet zones, the first of them and its next end are
    all fixed, so the outcome at the middle of the piece is the outcome of the whole piece.
    Jumps are followed up to ``HORIZON`` after the hour's end, past every caller's limit.
    """
    offsets = [offset for offset, _ in _distinct_offsets(zones, hour)]
    if None in offsets:
        return None
    low, high = _seconds(start), _seconds(end)
    first, last = hour * 3600.0, hour * 3600.0 + 3600.0
    points = {first, last}
    for offset in offsets:
        for local in (0.0, low, high):
            point = first + (local - first - (offset or 0)) % 86400
            if point < last:
                points.add(point)
    for name, zone in _zone_infos(zones):
        for moment in (first, last - 1):
            day = datetime.fromtimestamp(moment, UTC).astimezone(zone).date()
            for offset_days in range(-1, 3):
                point = _end_stamp(name, day + offset_days * _DAY, end)
                if first < point < last:
                    points.add(point)
    cuts = tuple(sorted(points))
    limit = last + _HORIZON_SECONDS
    spans = tuple(
        _span_at(zones, (left + right) / 2, low, high, end, limit) for left, right in pairwise(cuts)
    )
    return _HourPlan(cuts, spans)


def quiet_span(stamp: float, zones: tuple[str, ...], start: time, end: time) -> QuietSpan | None:
    """The outcome at POSIX time ``stamp`` for the window ``start``–``end``: None when no
    zone of ``zones`` is inside quiet hours (always, when ``start == end``).

    ``until`` is the first allowed moment (the same as ``next_allowed`` finds); a caller
    comparing it with ``stamp + HORIZON`` learns whether it is within reach.
    """
    if start == end:
        _zone_infos(zones)
        return None
    plan = _hour_plan(zones, start, end, int(stamp // 3600))
    if plan is not None:
        cuts = plan.cuts
        index = bisect_right(cuts, stamp) - 1
        if stamp - cuts[index] > _EDGE and cuts[index + 1] - stamp > _EDGE:
            return plan.spans[index]
    low, high = _seconds(start), _seconds(end)
    return _span_at(zones, stamp, low, high, end, stamp + _HORIZON_SECONDS)


def next_allowed(now: datetime, zones: Sequence[str], start: time, end: time) -> datetime | None:
    """The first moment ≥ ``now`` that is outside quiet hours in every zone of ``zones``.

    Returns ``now`` itself, unchanged, when ``now`` is allowed; otherwise an aware UTC
    datetime on a whole minute; None when no such moment exists within three days (a wide
    window over many zones can leave no common allowed time at all).
    """
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    key = tuple(zones)
    _zone_infos(key)
    if start == end:
        return now
    stamp = now.timestamp()
    span = quiet_span(stamp, key, start, end)
    if span is None:
        return now
    if span.until > stamp + _HORIZON_SECONDS:
        return None
    return span.not_before


def first_quiet_zones(now: datetime, zones: Sequence[str], start: time, end: time) -> list[str]:
    """The zones (in the given order) in which ``now`` falls inside quiet hours."""
    if start == end:
        return []
    span = quiet_span(now.timestamp(), tuple(zones), start, end)
    return list(span.zones) if span is not None else []
