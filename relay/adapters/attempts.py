"""Attempt limits for people-facing actions (verification codes, sign-ins), shared by every
web process through Redis with the `limits` library's moving window.

Unlike `relay.adapters.throttle` (which paces sends and never drops one), these refuse: a rule
that has no room left means "not now", and `wait_seconds` says for how long.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from limits.strategies import MovingWindowRateLimiter

from relay.adapters.redis_conn import limits_storage, redis_client
from relay.adapters.throttle import parse_rate

NAMESPACE = "relay-people"


class AttemptGate:
    """Named moving-window limits; a rule is (key, rate) such as ("ip:1.2.3.4", "10/hour")."""

    def __init__(self, redis_url: str) -> None:
        self.limiter = MovingWindowRateLimiter(limits_storage(redis_client(redis_url)))

    def wait_seconds(self, rules: Sequence[tuple[str, str]], now: float) -> int:
        """0 when every rule has room for one more attempt, else whole seconds to wait."""
        wait = 0.0
        for key, rate in rules:
            item = parse_rate(rate)
            if not self.limiter.test(item, NAMESPACE, key):
                stats = self.limiter.get_window_stats(item, NAMESPACE, key)
                wait = max(wait, stats.reset_time - now, 1.0)
        return math.ceil(wait)

    def hit(self, rules: Sequence[tuple[str, str]]) -> None:
        """Count one attempt under every rule."""
        for key, rate in rules:
            self.limiter.hit(parse_rate(rate), NAMESPACE, key)

    def clear(self, rules: Sequence[tuple[str, str]]) -> None:
        """Forget the attempts counted under these rules (e.g. after a successful sign-in)."""
        for key, rate in rules:
            self.limiter.clear(parse_rate(rate), NAMESPACE, key)


@lru_cache(maxsize=8)
def attempt_gate(redis_url: str) -> AttemptGate:
    """One gate per Redis URL and process."""
    return AttemptGate(redis_url)
