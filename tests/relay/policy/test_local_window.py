"""Windows and best hours on the recipient's own clock (relay.policy.local_hour)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from relay.policy import LocalWindow, first_slot, paced
from relay.policy.zones import phone_info

MOSCOW = ("Europe/Moscow",)  # UTC+3 all year
VLAD = ("Asia/Vladivostok",)  # UTC+10
ELEVEN_TO_TWO = LocalWindow(time(11, 0), time(14, 0))


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_a_window_that_ends_before_it_starts_is_refused_with_both_times():
    with pytest.raises(ValueError, match="11:00–10:00"):
        LocalWindow(time(11, 0), time(10, 0))
    with pytest.raises(ValueError, match="must end after"):
        LocalWindow(time(11, 0), time(11, 0))


def test_before_the_window_it_opens_at_its_start_and_closes_at_its_end():
    slot = first_slot(MOSCOW, utc(15, 5), ELEVEN_TO_TWO)
    assert (slot.start, slot.end) == (utc(15, 8), utc(15, 11))


def test_inside_an_open_window_it_goes_at_once():
    slot = first_slot(MOSCOW, utc(15, 9, 30), ELEVEN_TO_TWO)
    assert (slot.start, slot.end) == (utc(15, 9, 30), utc(15, 11))


def test_after_the_window_it_waits_for_the_next_day():
    slot = first_slot(MOSCOW, utc(15, 12), ELEVEN_TO_TWO)
    assert (slot.start, slot.end) == (utc(16, 8), utc(16, 11))


def test_a_wall_clock_time_already_passed_waits_for_tomorrow_as_before():
    slot = first_slot(MOSCOW, utc(15, 9), LocalWindow(time(11, 0)))
    assert (slot.start, slot.end) == (utc(16, 8), None)


def test_pacing_fills_the_window_then_the_next_days_window():
    # 2 per 60 minutes in a 3-hour window: 6 a day; the 7th goes next day at the start
    slot = first_slot(MOSCOW, utc(15, 5), ELEVEN_TO_TWO)
    times = [paced(MOSCOW, slot, ELEVEN_TO_TWO, k, 2, 60) for k in range(14)]
    assert times[:6] == [utc(15, 8), utc(15, 8), utc(15, 9), utc(15, 9), utc(15, 10), utc(15, 10)]
    assert times[6:12] == [t + timedelta(days=1) for t in times[:6]]
    assert times[12:] == [utc(17, 8), utc(17, 8)]
    assert all(t.hour < 11 for t in times)  # never at or after 14:00 Moscow


def test_a_window_opened_late_holds_fewer_that_day():
    slot = first_slot(MOSCOW, utc(15, 10, 30), ELEVEN_TO_TWO)  # 13:30 Moscow: 30 min left
    times = [paced(MOSCOW, slot, ELEVEN_TO_TWO, k, 2, 60) for k in range(4)]
    assert times == [utc(15, 10, 30), utc(15, 10, 30), utc(16, 8), utc(16, 8)]


def test_a_wall_clock_time_without_window_paces_on_without_end():
    slot = first_slot(MOSCOW, utc(15, 5), LocalWindow(time(11, 0)))
    assert paced(MOSCOW, slot, LocalWindow(time(11, 0)), 10, 2, 60) == utc(15, 13)


def test_an_ambiguous_number_keeps_the_strict_start_when_no_moment_fits_every_zone():
    zones = phone_info("+79161234567").zones  # 16 candidate zones, UTC+2 … UTC+12
    assert len(zones) > 1
    slot = first_slot(zones, utc(15, 0), ELEVEN_TO_TWO)
    # 11:00 in the westernmost zone (UTC+2) is 14:00 or later in every eastern one
    assert (slot.start, slot.end) == (utc(15, 9), None)


def test_a_window_narrows_to_what_two_zones_share():
    zones = ("Europe/Moscow", "Asia/Yekaterinburg")  # UTC+3 and UTC+5
    slot = first_slot(zones, utc(15, 0), ELEVEN_TO_TWO)
    assert (slot.start, slot.end) == (utc(15, 8), utc(15, 9))  # 11:00 MSK … 14:00 YEKT


def test_the_best_hour_inside_the_window_is_used():
    slot = first_slot(MOSCOW, utc(15, 5), ELEVEN_TO_TWO, best_hour=10)  # 13:00 Moscow
    assert (slot.start, slot.end) == (utc(15, 10), utc(15, 11))


def test_a_best_hour_outside_the_window_is_ignored():
    slot = first_slot(MOSCOW, utc(15, 5), ELEVEN_TO_TWO, best_hour=16)  # 19:00 Moscow
    assert slot.start == utc(15, 8)


def test_a_best_hour_already_passed_today_waits_for_tomorrows():
    slot = first_slot(MOSCOW, utc(15, 10, 30), ELEVEN_TO_TWO, best_hour=9)
    assert (slot.start, slot.end) == (utc(16, 9), utc(16, 11))


def test_without_a_window_the_best_hour_replaces_the_time():
    slot = first_slot(VLAD, utc(15, 0, 30), LocalWindow(time(11, 0)), best_hour=5)
    assert (slot.start, slot.end) == (utc(15, 5), None)  # 15:00 in Vladivostok
    later = first_slot(VLAD, utc(15, 6), LocalWindow(time(11, 0)), best_hour=5)
    assert later.start == utc(16, 5)


def test_paced_best_hour_messages_spill_to_the_next_days_best_hour():
    slot = first_slot(MOSCOW, utc(15, 5), ELEVEN_TO_TWO, best_hour=10)
    times = [paced(MOSCOW, slot, ELEVEN_TO_TWO, k, 1, 60, best_hour=10) for k in range(3)]
    assert times == [utc(15, 10), utc(16, 10), utc(17, 10)]


def test_an_aware_moment_is_required():
    with pytest.raises(ValueError, match="timezone-aware"):
        first_slot(MOSCOW, datetime(2026, 1, 15, 5), ELEVEN_TO_TWO)
