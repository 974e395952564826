"""Quiet hours looked up in per-hour plans give what the jumping loop gives, moment by moment.

Two references: the jumping loop itself, as ``next_allowed`` ran it for every call before the
hours were cut into pieces (same helpers, no plan), and for whole-minute windows in zones
without summer time a plain minute-by-minute scan with ``in_quiet_hours``.
"""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from relay.policy import in_quiet_hours, next_allowed
from relay.policy.quiet_hours import first_quiet_zones, quiet_span
from tests.relay.policy.test_policy_quiet_hours import RU_MOBILE_ZONES

# the package exports the rule `quiet_hours` under the module's name
qh = importlib.import_module("relay.policy.quiet_hours")

WINDOWS = (
    (time(23, 0), time(7, 0)),
    (time(22, 0), time(8, 0)),
    (time(21, 30, 30), time(6, 59, 45, 500_000)),  # seconds and microseconds: ends are rounded up
    (time(8, 0), time(20, 0)),  # not wrapping midnight
    (time(0, 0), time(6, 0)),  # starting at midnight
    (time(1, 30), time(2, 30)),  # inside the hour clocks skip or repeat in Europe
    (time(12, 0), time(11, 0)),  # so wide that 16 zones leave no common minute
)
ZONE_SETS = (
    RU_MOBILE_ZONES,
    ("Europe/Moscow",),
    ("Europe/Minsk", "Europe/Kaliningrad"),
    ("Europe/Berlin",),
    ("America/New_York", "Europe/London"),
    ("Australia/Lord_Howe", "Asia/Kathmandu"),  # half-hour summer time, a +05:45 offset
    ("America/St_Johns",),  # summer time that changes in the middle of a UTC hour
)
# summer-time changes of 2026 in the zones above, where the exact path must take over
CHANGES = (
    datetime(2026, 3, 8, 5, 30, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 11, 1, 4, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
)


def loop_next_allowed(
    now: datetime, zones: tuple[str, ...], start: time, end: time
) -> datetime | None:
    """``next_allowed`` as the plain jumping loop, run afresh for this one moment."""
    infos = qh._zone_infos(zones)
    if start == end:
        return now
    low, high = qh._seconds(start), qh._seconds(end)
    stamp = now.timestamp()
    quiet = qh._first_quiet(zones, stamp, low, high)
    if quiet < 0:
        return now
    limit = stamp + qh.HORIZON.total_seconds()
    while quiet >= 0:
        name, zone = infos[quiet]
        stamp = qh._next_end_after(name, zone, stamp, end)
        if stamp > limit:
            return None
        quiet = qh._first_quiet(zones, stamp, low, high)
    return datetime.fromtimestamp(stamp, UTC)


def loop_quiet_zones(now: datetime, zones: tuple[str, ...], start: time, end: time) -> list[str]:
    """``first_quiet_zones`` zone by zone, without a plan."""
    if start == end:
        return []
    low, high, stamp = qh._seconds(start), qh._seconds(end), now.timestamp()
    return [
        name
        for name, zone in qh._zone_infos(zones)
        if qh._quiet_seconds(qh._local_seconds(zone, stamp), low, high)
    ]


def scan_next_allowed(
    now: datetime, zones: tuple[str, ...], start: time, end: time
) -> datetime | None:
    """The first moment, ``now`` or a later whole minute, allowed in every zone (3 days)."""

    def allowed(moment: datetime) -> bool:
        return not any(
            in_quiet_hours(moment.astimezone(ZoneInfo(zone)).time(), start, end) for zone in zones
        )

    if allowed(now):
        return now
    # in UTC: adding a minute to a wall clock of a zone with summer time is not a minute
    moment = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment <= now + qh.HORIZON:
        if allowed(moment):
            return moment
        moment += timedelta(minutes=1)
    return None


def random_moment(rng: random.Random) -> datetime:
    """Anywhere in 2026, near a summer-time change, or on or right next to a whole minute
    (where the hours are cut)."""
    kind = rng.random()
    if kind < 0.4:
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 365 * 86400))
    elif kind < 0.6:
        moment = rng.choice(CHANGES) + timedelta(seconds=rng.uniform(-2 * 86400, 2 * 86400))
    else:
        minute = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(525_600))
        moment = minute + timedelta(
            microseconds=rng.choice([0, 0, 1, -1, 999, -999, 1000, -1000, 30_000_000])
        )
    zone = rng.choice([UTC, ZoneInfo("Europe/Moscow"), ZoneInfo("America/New_York")])
    return moment.astimezone(zone)  # the answer must not depend on now's own zone


@pytest.mark.parametrize("seed", range(4))
def test_plans_answer_as_the_jumping_loop(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = set()
    for _ in range(1500):
        zones = rng.choice(ZONE_SETS)
        start, end = rng.choice(WINDOWS)
        now = random_moment(rng)
        expected = loop_next_allowed(now, zones, start, end)
        got = next_allowed(now, zones, start, end)
        assert got == expected, (now, zones, start, end)
        if expected is now:
            assert got is now  # "allowed now" is told by identity (decide() relies on it)
        assert first_quiet_zones(now, zones, start, end) == loop_quiet_zones(
            now, zones, start, end
        ), (now, zones, start, end)
        outcomes.add("now" if expected is now else "none" if expected is None else "later")
    assert outcomes == {"now", "none", "later"}  # every kind of answer was compared


@pytest.mark.parametrize("seed", range(2))
def test_plans_answer_as_a_minute_scan(seed: int) -> None:
    rng = random.Random(100 + seed)
    fixed = tuple(zones for zones in ZONE_SETS if zones[0].startswith(("Asia/A", "Europe/M")))
    for _ in range(150):
        zones = rng.choice(fixed)
        start, end = rng.choice([w for w in WINDOWS[:5] if not w[1].second])
        now = random_moment(rng)
        assert next_allowed(now, zones, start, end) == scan_next_allowed(now, zones, start, end), (
            now,
            zones,
            start,
            end,
        )


def test_one_piece_of_an_hour_is_one_shared_outcome() -> None:
    # 01:00 UTC in January: night from Kaliningrad (03:00) to Anadyr (13:00 is day there)
    first = quiet_span(
        datetime(2026, 1, 15, 1, 10, tzinfo=UTC).timestamp(), RU_MOBILE_ZONES, *WINDOWS[0]
    )
    second = quiet_span(
        datetime(2026, 1, 15, 1, 40, tzinfo=UTC).timestamp(), RU_MOBILE_ZONES, *WINDOWS[0]
    )
    assert first is not None and first is second
    assert first.not_before == datetime(2026, 1, 15, 5, 0, tzinfo=UTC)  # 07:00 in Kaliningrad
    assert "Europe/Moscow" in first.zones and "Asia/Anadyr" not in first.zones


def test_hours_with_a_summer_time_change_have_no_plan() -> None:
    # St John's goes from -02:30 back to -03:30 at 04:30 UTC, in the middle of the hour
    hour = int(datetime(2026, 11, 1, 4, 10, tzinfo=UTC).timestamp() // 3600)
    assert qh._hour_plan(("America/St_Johns",), *WINDOWS[0], hour) is None
    assert qh._hour_plan(("America/New_York",), *WINDOWS[0], hour) is not None


def test_equal_start_and_end_is_never_quiet() -> None:
    now = datetime(2026, 1, 15, 2, tzinfo=UTC)
    assert quiet_span(now.timestamp(), ("Europe/Moscow",), time(7), time(7)) is None
    with pytest.raises(ValueError, match="unknown time zone"):
        quiet_span(now.timestamp(), ("Mars/Base",), time(7), time(7))
