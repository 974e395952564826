"""Campaign time arithmetic: start times in the tenant's zone and the next run of a recurrence.

Everything is done on the tenant's local wall clock and converted to UTC at the end, with
zoneinfo, so "every day at 10:00" stays at 10:00 across a summer-time change. A wall time that
does not exist (the hour skipped in spring) moves forward by the gap; an ambiguous one (the
hour repeated in autumn) takes its first occurrence.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

RECURRENCES = ("once", "daily", "monthly", "yearly")
KINDS = ("campaign", "birthday", "date")
# A run that was due this long ago and never planned (the workers were down) is skipped rather
# than sent late: a birthday greeting two days late, or a 10:00 promotion at midnight, is worse
# than none. The next run is planned as usual.
MISSED_RUN_GRACE = timedelta(hours=12)


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time in `zone` as an aware UTC datetime (fold=0: see the module doc)."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def parse_start(value: Any, zone: ZoneInfo) -> datetime:
    """`start_at` from the API: ISO 8601 with an offset, or a naive local time in `zone`.

    Raises ValueError with a message fit for the client.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a time as 'YYYY-MM-DDTHH:MM' (the tenant's zone) or ISO 8601")
    text = value.strip().replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        return localize(parsed, zone)
    return parsed.astimezone(UTC)


def greeting_date_problem(value: Any) -> str | None:
    """Why `value` is not a "MM-DD" greeting date, or None when it is one."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        return "a date as MM-DD, e.g. 03-08"
    try:
        month, day = int(value[:2]), int(value[3:])
        date(2024, month, day)  # a leap year, so 02-29 is allowed
    except ValueError:
        return f"{value!r} is not a calendar date (MM-DD)"
    return None


def _clamped(year: int, month: int, day: int) -> date:
    """The date, with the day clamped to the month's length (31 → 30, 29 Feb → 28 Feb)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _local_anchor(campaign: Any, zone: ZoneInfo) -> datetime:
    """The campaign's first run on the local wall clock (naive)."""
    start = campaign.start_at or datetime.now(UTC)
    return start.astimezone(zone).replace(tzinfo=None, fold=0)


def first_run(campaign: Any, zone: ZoneInfo, now: datetime) -> datetime:
    """When a started campaign runs first.

    A one-off campaign: its start time, or now when that has passed. A date greeting: the next
    time its MM-DD comes round, at the start's time of day. Other recurring campaigns: their
    start, unless that was missed by more than MISSED_RUN_GRACE (then the next occurrence).
    """
    start = campaign.start_at or now
    if campaign.kind == "date":
        after = max(start, now) - timedelta(microseconds=1)
        found = next_run_after(campaign, zone, after)
        return found if found is not None else start
    if campaign.kind == "campaign" and campaign.recurrence == "once":
        return max(start, now)
    if start >= now - MISSED_RUN_GRACE:
        return start
    found = next_run_after(campaign, zone, now)
    return found if found is not None else start


def next_run_after(campaign: Any, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first run strictly after `after`, or None for a campaign that runs once.

    Birthday campaigns run daily; date greetings yearly on their MM-DD; other campaigns
    follow their recurrence, keeping the start's day of month (clamped in short months).
    """
    if campaign.kind == "birthday":
        recurrence = "daily"
    elif campaign.kind == "date":
        recurrence = "yearly"
    else:
        recurrence = campaign.recurrence
    if recurrence == "once":
        return None
    anchor = _local_anchor(campaign, zone)
    if campaign.kind == "date":
        month, day = int(campaign.greeting_date[:2]), int(campaign.greeting_date[3:])
        anchor = datetime.combine(_clamped(anchor.year, month, day), anchor.time())
    wall = anchor.time()
    local_after = after.astimezone(zone).date()
    candidates: list[date]
    if recurrence == "daily":
        candidates = [local_after + timedelta(days=n) for n in range(-1, 3)]
    elif recurrence == "monthly":
        candidates = []
        for n in range(-1, 3):
            index = local_after.year * 12 + local_after.month - 1 + n
            candidates.append(_clamped(index // 12, index % 12 + 1, anchor.day))
    else:
        candidates = [
            _clamped(year, anchor.month, anchor.day)
            for year in range(local_after.year - 1, local_after.year + 3)
        ]
    for on in candidates:
        at = localize(datetime.combine(on, wall), zone)
        if at > after:
            return at
    return None  # unreachable for the recurrences above: the last candidate is in the future


def birthday_matches(run_day: date) -> list[tuple[int, int]]:
    """The (month, day) birthdays celebrated on `run_day`: 29 February is greeted on the
    28th in years without one."""
    days = [(run_day.month, run_day.day)]
    if run_day.month == 2 and run_day.day == 28 and not calendar.isleap(run_day.year):
        days.append((2, 29))
    return days
