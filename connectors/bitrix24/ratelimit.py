"""Pacing REST calls per portal: a token bucket per member_id, shared by this process's threads.

Bitrix24 meters each portal with a leaky bucket (2 requests/s drained, 50 before blocking on
most plans; limits.md in the REST docs). Pacing here keeps one process well under it; several
worker processes share the portal's budget without talking to each other, so the client still
handles `QUERY_LIMIT_EXCEEDED` (HTTP 503) with backoff, and `drain()` makes every thread of
this process back off together after such an answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._stamp = burst, clock()
        self._lock = threading.Lock()

    def _fill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take a token; return how long to wait before using it (0 when one was ready)."""
        with self._lock:
            self._fill()
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def drain(self) -> None:
        """Forget saved-up tokens (the portal said we were too fast)."""
        with self._lock:
            self._fill()
            self._tokens = min(self._tokens, 0.0)


_BUCKETS: dict[str, TokenBucket] = {}
_LOCK = threading.Lock()


def bucket_for(member_id: str, rate: float, burst: float) -> TokenBucket:
    """The process-wide bucket of one portal (created on first use)."""
    with _LOCK:
        bucket = _BUCKETS.get(member_id)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
            bucket = _BUCKETS[member_id] = TokenBucket(rate, burst)
        return bucket


def wait_turn(
    member_id: str, rate: float, burst: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Block until this process may send the portal its next request."""
    delay = bucket_for(member_id, rate, burst).reserve()
    if delay > 0:
        sleep(delay)
