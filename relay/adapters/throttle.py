"""Smooth sending: rate limits per provider and per tenant, shared by every worker via Redis.

"200/second" is a promise about the gateway: at most 200 requests *arrive* there in any
second, counted across every worker on every host (docs/architecture.md, "Many hosts"). A
count of grants cannot keep it: a send leaves some time after its grant, so the gateway's worst
second would hold sends granted in the second before. So a send is counted from its grant until
one period after it *ended*:

- `take` is asked for the few sends about to go (a gateway's send group) immediately before the
  call; it grants what every limit has room for and logs each granted send as "in flight";
- `finish`, after the call, moves the sends' entries to the time it returned (Redis's clock,
  read after the gateway answered, so after every request of the group arrived there);
- an entry counts while it is younger than the period; one still in flight always counts.

Take two sends arriving at the gateway less than a period apart: when the later was granted,
the earlier was either in flight or had ended no sooner than it arrived, so within the period:
it was counted, and the grant was given only with room for both. The price is that a slot is
held for its send's duration beyond the period: a little under the rate when it is saturated.

One Lua script checks and takes every limit (gateway and tenant) at once, on a sorted set per
key scored with Redis's own clock, so hosts whose clocks differ share one count. What cannot go
now waits (status `queued`, reason `throttled`) and is retried when the window has room — never
dropped.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from redis import Redis
from redis.exceptions import RedisError


@lru_cache(maxsize=256)
def parse_rate(rate: str) -> RateLimitItem:
    """A rate such as "50/second", "100 per minute" or "1000 per 10 minutes"."""
    try:
        return parse(rate)
    except ValueError as exc:
        raise ValueError(
            f"rate must look like '50/second' or '100 per 5 minutes', got {rate!r}"
        ) from exc


log = logging.getLogger("relay.throttle")
# When the limits cannot be read (Redis failing over), nothing goes: the gateway's rate is never
# exceeded, and the batch waits as `queued` instead of failing half-way after its claim.
UNREACHABLE_WAIT_SECONDS = 1.0

# KEYS: one sorted set per limit. ARGV[1] sends wanted, ARGV[2] the grant's tag, ARGV[3] how
# long a send may stay in flight (its entry's score until `finish`), then (amount, period) per
# key. Members are "<tag>:<n>". Returns {granted, seconds until more room (when short)}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wanted, tag, hold = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local allowed, wait = wanted, 0
for i, key in ipairs(KEYS) do
  local amount, period = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.6f', now - period))
  local room = amount - redis.call('ZCARD', key)
  if room < wanted then
    -- room comes when the oldest entry leaves; one still in flight leaves a period after now
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if oldest[2] then
      wait = math.max(wait, math.min(tonumber(oldest[2]), now) + period - now)
    end
  end
  allowed = math.max(0, math.min(allowed, room))
end
if allowed > 0 then
  for i, key in ipairs(KEYS) do
    local period = tonumber(ARGV[3 + 2 * i])
    local score = string.format('%.6f', now + hold)
    -- a few hundred members a call: unpack's stack stays small whatever the group's size
    for first = 1, allowed, 500 do
      local add = {}
      for n = first, math.min(allowed, first + 499) do
        add[#add + 1] = score
        add[#add + 1] = tag .. ':' .. n
      end
      redis.call('ZADD', key, unpack(add))
    end
    redis.call('PEXPIRE', key, math.ceil((hold + period) * 1000) + 1000)
  end
end
return {allowed, string.format('%.3f', wait)}
"""

# KEYS as for _TAKE; ARGV[1] the grant's tag, ARGV[2] sends granted, ARGV[3] sends made. The
# sends made are stamped with now; the slots of the others are given back.
_FINISH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tag, granted, used = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  for n = 1, granted do
    if n <= used then
      redis.call('ZADD', key, 'XX', string.format('%.6f', now), tag .. ':' .. n)
    else
      redis.call('ZREM', key, tag .. ':' .. n)
    end
  end
end
return used
"""


@dataclass(frozen=True)
class Grant:
    """How many sends may go now, how long the rest should wait, and what to `finish`."""

    allowed: int
    retry_after: float
    keys: tuple[str, ...] = ()
    tag: str = ""


class Throttle:
    """Shared send-rate limits keyed by name (e.g. "provider:kannel", "tenant:<id>")."""

    def __init__(
        self, redis: Redis, prefix: str = "relay:rate:", in_flight_seconds: float = 25.0
    ) -> None:
        self.redis, self.prefix = redis, prefix
        # a grant whose `finish` never comes (the process died mid-call) counts this long as
        # in flight: the longest a send may take
        self.in_flight_seconds = in_flight_seconds
        self._take = redis.register_script(_TAKE)
        self._finish = redis.register_script(_FINISH)

    def take(self, limits: Sequence[tuple[str, str]], wanted: int) -> Grant:
        """Take up to `wanted` sends under every (key, rate) limit at once, just before they
        go; `finish` the grant once the gateway answered."""
        if wanted <= 0 or not limits:
            return Grant(max(0, wanted), 0.0)
        keys, args = [], []
        for key, rate in limits:
            item = parse_rate(rate)
            keys.append(self.prefix + key)
            args += [item.amount, item.get_expiry()]
        tag = secrets.token_hex(8)
        try:
            allowed, wait = self._take(keys=keys, args=[wanted, tag, self.in_flight_seconds, *args])
        except RedisError:
            log.warning("rate limits unreachable: the batch waits", extra={"wanted": wanted})
            return Grant(0, UNREACHABLE_WAIT_SECONDS)
        allowed = int(allowed)
        wait_s = float(wait.decode() if isinstance(wait, bytes) else wait)
        wait_s = 0.0 if allowed >= wanted else max(0.2, min(60.0, wait_s))
        return Grant(allowed, math.ceil(wait_s * 10) / 10, tuple(keys), tag)

    def finish(self, grant: Grant, used: int) -> None:
        """The gateway answered: the `used` sends of `grant` count from now for one period, its
        other slots are free again."""
        if not grant.keys or grant.allowed <= 0:
            return
        try:
            self._finish(keys=list(grant.keys), args=[grant.tag, grant.allowed, used])
        except RedisError:
            # the entries stay "in flight" until `in_flight_seconds` passed: the limit still
            # holds, the slots come back later
            log.warning("rate limits unreachable: sends still count as in flight")
