"""Sending at a wall-clock time, or in a window, in the recipient's own zone.

"11:00 in the recipient's time", "between 11:00 and 14:00 in the recipient's time", and "at
the hour this recipient most often clicks or reads" (docs/architecture.md, 'Growth').

Pure: the zones come from `resolve_timezones` (docs/architecture.md, 'Time zones'), the
moment to start from and the best hour are arguments. With several candidate zones the rule
is as strict as quiet hours: a window opens on a local day at the first moment its start has
been reached in *every* candidate zone and closes at the first moment its end has been
reached in *any* of them, so nobody gets the message before their own start or after their
own end. A window that no moment satisfies in every zone (a Russian mobile that may be
anywhere from Kaliningrad to Kamchatka has 10 hours between its westernmost and easternmost
clocks) keeps only its strict start; quiet hours still bound it, in the decision itself.

Pacing (N per M minutes) counts the messages released at one moment; in a window, the ones
that do not fit before its end go on the next local day's window, and so on.

The best hour is an hour of the day in UTC (the caller works it out from the recipient's
clicks and reads): the relay's markets keep no daylight saving time, so a fixed UTC hour is a
fixed hour on the recipient's own clock. Inside a window it is used only when it falls in
that day's window; without a window, it replaces the wall-clock time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from relay.policy.tzcache import UTC, get_zone

__all__ = ["LocalSlot", "LocalWindow", "first_slot", "parse_wall_time", "paced", "release_at"]


def parse_wall_time(value: str) -> time:
    """`HH:MM` as a time; ValueError naming the value otherwise."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"expected a time as HH:MM, got {value!r}")
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise ValueError(f"expected a time as HH:MM, got {value!r}")
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class LocalWindow:
    """A wall-clock time (`end` None) or a window [start, end) on one local day."""

    start: time
    end: time | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValueError(
                f"a window must end after it starts on the same day, got {self.start:%H:%M}"
                f"–{self.end:%H:%M}"
            )


@dataclass(frozen=True, slots=True)
class LocalSlot:
    """One local day's release: from `start` (UTC) until `end` (None: no end to keep)."""

    day: date
    start: datetime
    end: datetime | None


def _instant(zone_name: str, day: date, wall: time) -> datetime:
    zone = get_zone(zone_name)
    if zone is None:
        raise ValueError(f"unknown time zone, got {zone_name!r}")
    local = datetime.combine(day, wall).replace(tzinfo=zone, fold=0)
    return local.astimezone(UTC)


def _best_moment(start: datetime, hour: int) -> datetime:
    """The first moment at or after `start` at which the UTC clock shows `hour`:00."""
    moment = start.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment >= start else moment + timedelta(days=1)


def window_on(
    zones: Sequence[str], day: date, window: LocalWindow, best_hour: int | None = None
) -> LocalSlot:
    """The strict window of local day `day` in every zone of `zones`; with `best_hour`, its
    start moved to that hour when the hour falls inside the window."""
    return _window_on(tuple(zones), day, window, best_hour)


# a campaign run asks the same questions for every recipient sharing zones (a Russian mobile's
# 16 candidates cost ~110 us a question, as much as the rest of its planning): both answers
# depend on their arguments alone, so they are memoised
@lru_cache(maxsize=4096)
def _window_on(
    zones: tuple[str, ...], day: date, window: LocalWindow, best_hour: int | None
) -> LocalSlot:
    if not zones:
        raise ValueError("at least one time zone is needed")
    start = max(_instant(name, day, window.start) for name in zones)
    end = None
    if window.end is not None:
        closes = min(_instant(name, day, window.end) for name in zones)
        end = closes if closes > start else None  # empty in every zone at once: start only
    if best_hour is not None:
        if window.end is None:
            return LocalSlot(day, _best_moment(start - timedelta(hours=12), best_hour), None)
        best = _best_moment(start, best_hour)
        if end is not None and best < end:
            return LocalSlot(day, best, end)
    return LocalSlot(day, start, end)


def first_slot(
    zones: Sequence[str], after: datetime, window: LocalWindow, best_hour: int | None = None
) -> LocalSlot:
    """The first release at or after `after`. A window already open releases at `after`
    itself, unless a best hour is due later in it; a wall-clock time already passed today
    waits for tomorrow."""
    if after.utcoffset() is None:
        raise ValueError(f"after must be a timezone-aware datetime, got {after!r}")
    return _first_slot(tuple(zones), after, window, best_hour)


@lru_cache(maxsize=4096)
def _first_slot(
    zones: tuple[str, ...], after: datetime, window: LocalWindow, best_hour: int | None
) -> LocalSlot:
    first = after.astimezone(UTC).date()
    for offset in range(-1, 4):
        slot = window_on(zones, first + timedelta(days=offset), window, best_hour)
        if slot.start >= after:
            return slot
        open_now = slot.end is not None and after < slot.end
        best_passed = (
            best_hour is not None and slot.start != window_on(zones, slot.day, window).start
        )
        if open_now and not best_passed:
            return LocalSlot(slot.day, after, slot.end)
    raise AssertionError("a local day within four days always qualifies")  # pragma: no cover


def release_at(zones: Sequence[str], after: datetime, wall: time) -> datetime:
    """The first moment ≥ `after` at which it is `wall` or later, on one local day, in every
    zone of `zones` (UTC, aware)."""
    return first_slot(zones, after, LocalWindow(wall)).start


def paced(
    zones: Sequence[str],
    first: LocalSlot,
    window: LocalWindow,
    k: int,
    count: int | None,
    minutes: int | None,
    best_hour: int | None = None,
) -> datetime:
    """When the k-th message released at `first` goes: `count` per `minutes` from the
    release; in a window, those past its end on the following local days' windows."""
    if not count or not minutes:
        return first.start
    step = timedelta(minutes=minutes)

    def capacity(slot: LocalSlot) -> float:
        if slot.end is None:
            return math.inf
        return count * math.ceil((slot.end - slot.start) / step)

    today = capacity(first)
    if k < today:
        return first.start + step * (k // count)
    left = k - int(today)
    per_day = capacity(window_on(zones, first.day + timedelta(days=1), window, best_hour))
    days, j = divmod(left, int(per_day))
    slot = window_on(zones, first.day + timedelta(days=1 + days), window, best_hour)
    return slot.start + step * (j // count)
