"""What several processes on several hosts share through Redis: the leader lease, the
platforms' API buckets, and the Sentinel form of RELAY_REDIS_URL."""

from __future__ import annotations

import threading

import pytest
from redis import Redis

from relay.adapters.leader import LeaderLease, PeriodicDuties
from relay.adapters.pacing import RedisPacer
from relay.adapters.redis_conn import SentinelUrl


@pytest.fixture
def redis(rt) -> Redis:
    return rt.redis


def test_one_leader_at_a_time_and_a_successor_after_release(redis):
    first, second = (LeaderLease(redis, "t-lead", ttl_seconds=30) for _ in range(2))
    assert first.acquire() and not second.acquire()
    assert first.acquire()  # the holder renews
    assert redis.pttl(first.key) > 29000
    second.release()  # not the holder: nothing happens
    assert first.holder() == first.token
    first.release()
    assert second.acquire() and second.holder() == second.token


def test_a_dead_leaders_lease_expires_and_another_takes_over(redis):
    dead, heir = LeaderLease(redis, "t-expire", 30), LeaderLease(redis, "t-expire", 30)
    assert dead.acquire()
    redis.pexpire(dead.key, 1)  # as if its 30 s ran out without a renewal
    threading.Event().wait(0.05)
    assert heir.acquire() and not dead.acquire()


def test_periodic_duties_run_only_in_the_leader_and_survive_a_failing_duty(redis):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    leader = PeriodicDuties(
        LeaderLease(redis, "t-duties", 30), [broken, lambda: ran.append("a")], 1
    )
    other = PeriodicDuties(LeaderLease(redis, "t-duties", 30), [lambda: ran.append("b")], 1)
    assert leader.tick() and not other.tick()
    assert leader.tick()
    assert ran == ["a", "a"]


def test_platform_buckets_are_shared_by_every_client_of_the_account(redis):
    one, two = RedisPacer(redis, "t-pace:"), RedisPacer(redis, "t-pace:")
    # Bitrix24-like: 2 per second, 2 saved up; the two "processes" draw on one bucket
    waits = [one.reserve("portal", 2, 2), two.reserve("portal", 2, 2), one.reserve("portal", 2, 2)]
    assert waits[:2] == [0.0, 0.0]
    assert 0.45 <= waits[2] <= 0.5
    # another account has a bucket of its own
    assert two.reserve("other", 2, 2) == 0.0


def test_a_hold_makes_every_client_wait(redis):
    one, two = RedisPacer(redis, "t-hold:"), RedisPacer(redis, "t-hold:")
    assert one.reserve("acct", 6, 1) == 0.0
    one.hold("acct", 2.0, 6, 1)
    assert two.reserve("acct", 6, 1) >= 2.0


def test_sentinel_url_is_parsed_and_a_plain_url_is_not_one():
    url = SentinelUrl.parse("redis+sentinel://:s3cret@h1:26379,h2:26380/mymaster/3")
    assert url == SentinelUrl(
        sentinels=(("h1", 26379), ("h2", 26380)), service="mymaster", db=3, password="s3cret"
    )
    assert SentinelUrl.parse("redis+sentinel://h1:26379/mymaster").db == 0
    assert SentinelUrl.parse("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize(
    "bad",
    [
        "redis+sentinel://h1:26379",  # no service
        "redis+sentinel://h1/mymaster",  # no port
        "redis+sentinel://h1:26379/mymaster/zero",
        "redis+sentinel://:pw@h1:26379/a/b/c",
    ],
)
def test_a_malformed_sentinel_url_is_refused_without_its_password(bad):
    with pytest.raises(ValueError) as err:
        SentinelUrl.parse(bad)
    assert "pw" not in str(err.value)
