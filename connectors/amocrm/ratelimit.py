"""A token bucket per amoCRM account: amoCRM allows about 7 API requests per second.

The bucket holds one token (no bursts) and refills at `rate_per_second` (default 6): requests
leave evenly spaced, so no one-second window — however amoCRM counts it — sees more than 7,
with a margin for network jitter bunching requests up on the way.

The relay hands the connector a shared `Pacer` (one bucket per account in Redis, for every
worker on every host): `SharedBucket` uses it with the same interface. A connector run without
one keeps a bucket per process (`bucket_for`); every 429 answer still backs off (client.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.pacing import Pacer


class TokenBucket:
    """`rate` tokens per second, at most `capacity` stored (default 1: evenly spaced calls);
    `acquire()` blocks until one is free."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self.rate = rate
        self.capacity = capacity if capacity is not None else 1.0
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a token (possibly going into debt); return how long to wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            # In debt: wait until the refill covers it. Callers queue up in reservation order.
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return max(wait, self._paused_until - now)

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """After a 429: nobody on this account calls again for `seconds`."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens = min(self._tokens, 0.0)


_BUCKETS: dict[str, TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(account: str, rate: float) -> TokenBucket:
    """The process-wide bucket of one account (created on first use)."""
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(account)
        if bucket is None or bucket.rate != rate:
            bucket = _BUCKETS[account] = TokenBucket(rate)
        return bucket


class SharedBucket:
    """An account's bucket kept by the host's `Pacer`, shared by every process; capacity 1."""

    def __init__(
        self,
        pacer: Pacer,
        account: str,
        rate: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self.pacer, self.key, self.rate, self._sleep = pacer, f"amocrm:{account}", rate, sleep

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        wait = self.pacer.reserve(self.key, self.rate, 1.0)
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """After a 429: nobody on this account, in any process, calls again for `seconds`."""
        self.pacer.hold(self.key, seconds, self.rate, 1.0)
