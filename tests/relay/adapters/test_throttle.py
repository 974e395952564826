"""The gateway rate limit counts a send from its grant until a period after it ended, so the
gateway itself never sees more than the rate in any period (relay/adapters/throttle.py)."""

from __future__ import annotations

import socket
import time

import pytest
from redis import Redis

from relay.adapters.throttle import UNREACHABLE_WAIT_SECONDS, Throttle


@pytest.fixture
def throttle(rt) -> Throttle:
    return Throttle(rt.redis, prefix="t-rate:", in_flight_seconds=25)


def test_a_send_that_left_late_keeps_its_slot_for_a_period_after_it_ended(throttle):
    limit = [("provider:gw", "2/second")]
    first = throttle.take(limit, 1)
    throttle.finish(first, 1)
    late = throttle.take(limit, 1)
    time.sleep(0.8)  # its marker commit and its request took this long: it reached the gateway now
    throttle.finish(late, 1)
    time.sleep(0.25)  # over a second after the first send, a quarter second after the late one
    again = throttle.take(limit, 1)
    throttle.finish(again, 1)
    # counting grants would let a fourth go now (both first grants are over a second old) and
    # the gateway would see the late send, the third and the fourth within one second
    refused = throttle.take(limit, 1)
    assert (first.allowed, late.allowed, again.allowed, refused.allowed) == (1, 1, 1, 0)
    assert 0.2 <= refused.retry_after <= 1.0


def test_a_send_still_in_flight_counts_however_long_ago_it_was_granted(throttle):
    limit = [("provider:slow", "1/second")]
    slow = throttle.take(limit, 1)
    time.sleep(1.1)
    assert throttle.take(limit, 1).allowed == 0
    throttle.finish(slow, 1)
    assert throttle.take(limit, 1).allowed == 0  # it ended just now: a period from now


def test_slots_granted_but_not_used_are_given_back(throttle):
    limit = [("provider:gw", "3/minute")]
    grant = throttle.take(limit, 3)
    assert grant.allowed == 3
    assert throttle.take(limit, 1).allowed == 0
    throttle.finish(grant, 1)  # two of the three lost their claim and were not sent
    assert throttle.take(limit, 5).allowed == 2


def test_every_limit_is_taken_at_once_and_the_tightest_decides(throttle):
    both = [("provider:gw", "5/minute"), ("tenant:a", "2/minute")]
    grant = throttle.take(both, 3)
    assert (grant.allowed, grant.retry_after > 0) == (2, True)
    throttle.finish(grant, 2)
    # only what was granted counts against the gateway: another tenant gets the other three
    assert throttle.take([("provider:gw", "5/minute"), ("tenant:b", "9/minute")], 9).allowed == 3


def _nobody_listens() -> Redis:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return Redis(port=port, socket_connect_timeout=0.5)


def test_no_limit_and_nothing_wanted_cost_no_redis():
    dead = Throttle(_nobody_listens())
    assert dead.take([], 7).allowed == 7
    assert dead.take([("provider:gw", "1/second")], 0).allowed == 0


def test_unreachable_limits_let_nothing_go():
    dead = Throttle(_nobody_listens())
    grant = dead.take([("provider:gw", "100/second")], 4)
    assert (grant.allowed, grant.retry_after) == (0, UNREACHABLE_WAIT_SECONDS)
    dead.finish(grant, 0)  # nothing to give back, and no error


def test_a_large_group_is_granted_and_finished_in_one_go(throttle, rt):
    # more members than one Lua call can unpack at once (8,000 values)
    limit = [("provider:sandbox", "10000/second")]
    grant = throttle.take(limit, 4500)
    assert grant.allowed == 4500
    throttle.finish(grant, 4000)
    assert rt.redis.zcard("t-rate:provider:sandbox") == 4000
    assert throttle.take(limit, 9000).allowed == 6000
