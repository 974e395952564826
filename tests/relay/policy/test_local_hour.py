"""release_at: 11:00 on the recipient's own clock, strict over candidate zones."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from relay.policy import parse_wall_time, release_at
from relay.policy.zones import phone_info

ELEVEN = time(11, 0)


def test_one_zone_is_its_next_eleven():
    winter = datetime(2026, 1, 15, 0, 0, tzinfo=UTC)
    assert release_at(("Asia/Vladivostok",), winter, ELEVEN) == datetime(
        2026, 1, 15, 1, 0, tzinfo=UTC
    )
    late = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 15:00 in Moscow: tomorrow's 11:00
    assert release_at(("Europe/Moscow",), late, ELEVEN) == datetime(2026, 1, 16, 8, 0, tzinfo=UTC)
    exact = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert release_at(("Europe/Moscow",), exact, ELEVEN) == exact


def test_summer_time_is_followed():
    summer = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)  # Berlin is UTC+2 in July
    assert release_at(("Europe/Berlin",), summer, ELEVEN) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def test_several_candidates_wait_for_the_last_of_them_on_one_day():
    zones = phone_info("+79161234567").zones  # a Russian mobile: 16 candidates, UTC+2 … +12
    assert len(zones) == 16
    start = datetime(2026, 1, 15, 0, 0, tzinfo=UTC)
    # 11:00 in Kaliningrad (UTC+2) = 09:00 UTC, when it is 21:00 in Kamchatka (same day)
    assert release_at(zones, start, ELEVEN) == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["11", "1100", "24:00", "11:60", "ab:cd", "", "11:0"])
def test_wall_times_are_hh_mm(bad):
    with pytest.raises(ValueError, match="HH:MM"):
        parse_wall_time(bad)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        release_at(("Europe/Moscow",), datetime(2026, 1, 15), ELEVEN)
