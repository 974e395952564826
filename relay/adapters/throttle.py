"""Smooth sending: rate limits per provider and per tenant, shared by every worker via Redis.

Uses the `limits` library's moving window on the relay's Redis: a log of the sends of the last
period, checked and extended by one Lua script, so "200/second" means at most 200 sends in
*any* second, counted across every worker on every host (a gateway counts that way; a
sliding-window counter only estimates it and lets up to twice the rate through across a window
boundary). A batch asks for as many sends as it has messages and gets what the tightest limit
allows right now; the rest wait (status `queued`, reason `throttled`) and are retried when the
window has room — never dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.strategies import MovingWindowRateLimiter
from redis import Redis
from redis.exceptions import RedisError

from relay.adapters.redis_conn import limits_storage


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


@dataclass(frozen=True)
class Grant:
    """How many sends may go now, and how long the rest should wait."""

    allowed: int
    retry_after: float


class Throttle:
    """Shared moving-window limits keyed by name (e.g. "provider:kannel", "tenant:<id>")."""

    def __init__(self, redis: Redis) -> None:
        self.limiter = MovingWindowRateLimiter(limits_storage(redis))

    def take(self, limits: Sequence[tuple[str, str]], wanted: int, now: float) -> Grant:
        """Take up to `wanted` sends under every (key, rate) limit at once."""
        if wanted <= 0 or not limits:
            return Grant(max(0, wanted), 0.0)
        items = [(key, parse_rate(rate)) for key, rate in limits]
        try:
            return self._take(items, wanted, now)
        except RedisError:
            log.warning("rate limits unreachable: the batch waits", extra={"wanted": wanted})
            return Grant(0, UNREACHABLE_WAIT_SECONDS)

    def _take(self, items: list[tuple[str, RateLimitItem]], wanted: int, now: float) -> Grant:
        allowed, reset = wanted, now
        for key, item in items:
            stats = self.limiter.get_window_stats(item, "relay", key)
            allowed = min(allowed, stats.remaining)
            if stats.remaining < wanted:
                reset = max(reset, stats.reset_time)
        if allowed > 0:
            for key, item in items:
                if not self.limiter.hit(item, "relay", key, cost=allowed):
                    allowed = 0  # another worker took the room meanwhile: wait for the next window
                    break
        wait = 0.0 if allowed >= wanted else max(0.2, min(60.0, reset - now))
        return Grant(allowed, math.ceil(wait * 10) / 10)
