"""The limiter's shared windows (relay/api/ratelimit.py): every process and host counts against
the same Redis counter, a process takes hits in small blocks, and no window ever admits more
than its limit."""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from relay.api.ratelimit import MAX_BLOCK, SharedWindows, parsed_limits


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


class CountingRedis:
    """The real client, counting round trips (pipelines executed)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.round_trips = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        pipe = self.redis.pipeline(*args, **kwargs)
        run = pipe.execute

        def execute() -> Any:
            self.round_trips += 1
            return run()

        pipe.execute = execute  # type: ignore[method-assign]
        return pipe


START = 1_800_000_000.0  # the start of a minute (and of a second)


def test_a_small_limit_is_counted_exactly_across_processes(rt):  # type: ignore[no-untyped-def]
    clock = Clock(START + 5)
    one, two = SharedWindows(rt.redis, clock), SharedWindows(rt.redis, clock)
    limit = parsed_limits("5/minute")
    answers = [(one if i % 2 else two).hit("key:a", limit) for i in range(5)]
    assert answers == [None] * 5
    refused = one.hit("key:a", limit)
    assert refused is not None and str(refused.limit) == "5 per 1 minute"
    assert refused.reset_at == START + 60  # the end of the window: Retry-After counts to it
    assert two.hit("key:a", limit) is not None
    assert one.hit("key:b", limit) is None  # another caller has its own counter
    clock.at = START + 60  # the next window
    assert two.hit("key:a", limit) is None


def test_blocks_save_round_trips_and_never_admit_more_than_the_limit(rt):  # type: ignore[no-untyped-def]
    clock = Clock(START + 10)
    redis_a, redis_b = CountingRedis(rt.redis), CountingRedis(rt.redis)
    one = SharedWindows(redis_a, clock)  # type: ignore[arg-type]
    two = SharedWindows(redis_b, clock)  # type: ignore[arg-type]
    limit = parsed_limits("3000/minute")
    admitted = sum((one if i % 3 else two).hit("ip:192.0.2.1", limit) is None for i in range(3500))
    assert admitted <= 3000
    # what a process took and did not hand out is lost to the other, at most a block each
    assert admitted >= 3000 - 2 * (MAX_BLOCK - 1)
    # blocks while the window is less than half used, one hit at a time after that
    assert redis_a.round_trips + redis_b.round_trips < 2500
    assert one.hit("ip:192.0.2.1", limit) is not None


def test_every_limit_of_a_setting_counts(rt):  # type: ignore[no-untyped-def]
    clock = Clock(START + 1)
    windows = SharedWindows(rt.redis, clock)
    limits = parsed_limits("100/second;3/minute")
    assert [windows.hit("operator", limits) for _ in range(3)] == [None] * 3
    refused = windows.hit("operator", limits)
    assert refused is not None and str(refused.limit) == "3 per 1 minute"


def test_with_redis_unreachable_requests_go_through():  # type: ignore[no-untyped-def]
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    windows = SharedWindows(dead, Clock(START))
    assert windows.hit("key:a", parsed_limits("1/minute")) is None
    assert windows.hit("key:a", parsed_limits("1/minute")) is None


def test_a_setting_that_is_not_a_rate_limits_nothing() -> None:
    assert parsed_limits("fifty a second") == ()
    assert [str(item) for item in parsed_limits("50/second")] == ["50 per 1 second"]


def test_two_threads_refilling_at_once_both_keep_their_blocks(rt):  # type: ignore[no-untyped-def]
    import threading

    meet = threading.Barrier(2, timeout=10)

    class Meeting(CountingRedis):
        def pipeline(self, *args: Any, **kwargs: Any) -> Any:
            if self.round_trips < 2:
                meet.wait()  # both threads are refilling before either has its answer
            return super().pipeline(*args, **kwargs)

    redis = Meeting(rt.redis)
    windows = SharedWindows(redis, Clock(START + 20))  # type: ignore[arg-type]
    limit = parsed_limits("6400/minute")  # blocks of 32 while less than half is used
    answers: list[Any] = []
    threads = [
        threading.Thread(target=lambda: answers.append(windows.hit("key:t", limit)))
        for _ in range(2)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert answers == [None, None] and redis.round_trips == 2
    # 2 x 32 taken, 2 used: the other 62 are handed out without asking Redis again
    assert [windows.hit("key:t", limit) for _ in range(62)] == [None] * 62
    assert redis.round_trips == 2
    windows.hit("key:t", limit)
    assert redis.round_trips == 3
