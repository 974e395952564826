"""Quiet hours: the window test and the first allowed minute across zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from relay.policy import in_quiet_hours, next_allowed
from tests.relay.policy.policy_builders import utc

NIGHT = (time(23, 0), time(7, 0))
RU_MOBILE_ZONES = (
    "Asia/Almaty",
    "Asia/Anadyr",
    "Asia/Aqtobe",
    "Asia/Irkutsk",
    "Asia/Kamchatka",
    "Asia/Krasnoyarsk",
    "Asia/Magadan",
    "Asia/Novosibirsk",
    "Asia/Omsk",
    "Asia/Sakhalin",
    "Asia/Vladivostok",
    "Asia/Yakutsk",
    "Asia/Yekaterinburg",
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (time(22, 59), False),
        (time(23, 0), True),
        (time(3, 0), True),
        (time(6, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
    ],
)
def test_window_that_wraps_midnight(local: time, expected: bool) -> None:
    assert in_quiet_hours(local, *NIGHT) is expected


@pytest.mark.parametrize(
    ("local", "expected"),
    [(time(0, 59), False), (time(1, 0), True), (time(4, 59), True), (time(5, 0), False)],
)
def test_window_inside_one_day(local: time, expected: bool) -> None:
    assert in_quiet_hours(local, time(1, 0), time(5, 0)) is expected


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    assert in_quiet_hours(time(0, 0), time(0, 0), time(0, 0)) is False
    assert in_quiet_hours(time(23, 30), time(23, 0), time(23, 0)) is False
    now = utc(2026, 1, 15, 21, 30)
    assert next_allowed(now, RU_MOBILE_ZONES, time(23, 0), time(23, 0)) is now


def test_allowed_now_is_returned_unchanged() -> None:
    now = datetime(2026, 1, 15, 9, 0, 17, 5, tzinfo=ZoneInfo("Europe/Moscow"))
    assert next_allowed(now, ("Europe/Moscow",), *NIGHT) is now


def test_all_sixteen_candidates_open_at_kaliningrad_seven() -> None:
    # 21:30 UTC: Kaliningrad (UTC+2) 23:30 … Anadyr (UTC+12) 09:30 next day.
    assert next_allowed(utc(2026, 1, 15, 21, 30), RU_MOBILE_ZONES, *NIGHT) == utc(2026, 1, 16, 5, 0)
    # 11:00 UTC is 23:00 in UTC+12: closed again until 05:00 UTC the next day.
    assert next_allowed(utc(2026, 1, 15, 11, 0), RU_MOBILE_ZONES, *NIGHT) == utc(2026, 1, 16, 5, 0)
    assert next_allowed(utc(2026, 1, 15, 10, 59), RU_MOBILE_ZONES, *NIGHT) == utc(
        2026, 1, 15, 10, 59
    )


def test_deferral_rounds_up_to_the_whole_minute() -> None:
    # 06:59:30 in Moscow: allowed from 07:00 MSK = 04:00 UTC.
    result = next_allowed(datetime(2026, 1, 15, 3, 59, 30, tzinfo=UTC), ("Europe/Moscow",), *NIGHT)
    assert result == utc(2026, 1, 15, 4, 0)
    assert result.tzinfo is UTC


def test_result_is_utc_even_for_a_local_now() -> None:
    now = datetime(2026, 1, 15, 23, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    result = next_allowed(now, ("Europe/Moscow",), *NIGHT)
    assert result == utc(2026, 1, 16, 4, 0)
    assert result.utcoffset().total_seconds() == 0


def test_custom_window_twenty_two_to_nine() -> None:
    window = (time(22, 0), time(9, 0))
    # 22:30 MSK → 09:00 MSK next day = 06:00 UTC.
    assert next_allowed(utc(2026, 1, 15, 19, 30), ("Europe/Moscow",), *window) == utc(
        2026, 1, 16, 6, 0
    )
    # 21:59 MSK is still allowed; 08:59 MSK is not.
    assert next_allowed(utc(2026, 1, 15, 18, 59), ("Europe/Moscow",), *window) == utc(
        2026, 1, 15, 18, 59
    )
    assert next_allowed(utc(2026, 1, 16, 5, 59), ("Europe/Moscow",), *window) == utc(
        2026, 1, 16, 6, 0
    )


def test_spring_forward_uses_the_new_offset() -> None:
    # Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC). 07:00 CEST = 05:00 UTC.
    assert next_allowed(utc(2026, 3, 28, 23, 0), ("Europe/Berlin",), *NIGHT) == utc(
        2026, 3, 29, 5, 0
    )
    # The day before, 07:00 CET = 06:00 UTC.
    assert next_allowed(utc(2026, 3, 27, 23, 0), ("Europe/Berlin",), *NIGHT) == utc(
        2026, 3, 28, 6, 0
    )


def test_end_of_window_inside_the_skipped_hour() -> None:
    # Quiet 23:00–02:30, but 02:30 does not exist on 29 March in Berlin: the clock jumps
    # from 02:00 CET straight to 03:00 CEST at 01:00 UTC, which is the first allowed minute.
    assert next_allowed(
        utc(2026, 3, 29, 0, 30), ("Europe/Berlin",), time(23, 0), time(2, 30)
    ) == utc(2026, 3, 29, 1, 0)


def test_end_of_window_inside_the_repeated_hour() -> None:
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET (01:00 UTC). With quiet hours
    # 01:00–02:30 the first 02:30 (CEST, 00:30 UTC) ends them.
    assert next_allowed(
        utc(2026, 10, 24, 23, 30), ("Europe/Berlin",), time(1, 0), time(2, 30)
    ) == utc(2026, 10, 25, 0, 30)


def test_dst_change_in_the_middle_of_a_utc_hour() -> None:
    # Adelaide (UTC+9:30) moves to UTC+10:30 at 16:30 UTC on 3 October 2026 (02:00 → 03:00
    # local), half-way through a UTC hour: the exact, uncached path has to be taken.
    adelaide = ("Australia/Adelaide",)
    assert next_allowed(utc(2026, 10, 3, 16, 0), adelaide, time(1, 0), time(2, 30)) == utc(
        2026, 10, 3, 16, 30
    )
    assert next_allowed(utc(2026, 10, 3, 16, 15), adelaide, time(1, 0), time(3, 30)) == utc(
        2026, 10, 3, 17, 0
    )
    now = utc(2026, 10, 3, 16, 45)  # 03:15 local, after the jump
    assert next_allowed(now, adelaide, time(1, 0), time(3, 0)) is now


def test_no_common_minute_within_three_days_gives_none() -> None:
    # 20:00–10:00 leaves 10 allowed hours; UTC+2 and UTC+12 never share one.
    zones = ("Europe/Kaliningrad", "Asia/Kamchatka")
    assert next_allowed(utc(2026, 1, 15, 12, 0), zones, time(20, 0), time(10, 0)) is None


def test_naive_now_and_unknown_zone_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(datetime(2026, 1, 15, 12, 0), ("Europe/Moscow",), *NIGHT)
    with pytest.raises(ValueError, match="Mars/Olympus"):
        next_allowed(utc(2026, 1, 15, 12, 0), ("Mars/Olympus",), *NIGHT)
    with pytest.raises(ValueError, match="at least one"):
        next_allowed(utc(2026, 1, 15, 12, 0), (), *NIGHT)
