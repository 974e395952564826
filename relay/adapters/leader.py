"""One leader across every host: a Redis lease with expiry, renewed while its holder lives.

Periodic duties (the sweeper, due campaigns and greetings) run in every worker process on
every host, but must run in exactly one at a time: two sweepers could both mark a stale claim
`unknown` and both re-enqueue the same ids. Every worker tries to take the lease; the one that
holds it runs the duties and renews it (every third of its time to live) for as long as it
lives; when that process dies, the lease expires and another worker takes over within one
lease time. The lease's value is the holder's own random token, so nobody but the holder can
renew or release it (a compare-and-set in a Lua script, atomic in Redis).

RQ's own scheduler (for `enqueue_at`) keeps a lock of the same kind per queue; it is RQ's, not
this module's (docs/architecture.md, "Many hosts").
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("relay.leader")

# Take the lease when free, or extend it when we already hold it: one atomic step.
_TAKE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
# Give it back only if it is still ours (it may have expired and gone to another holder).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaderLease:
    """A named lease in Redis held by one process (token) at a time, for `ttl_seconds`."""

    def __init__(self, redis: Redis, name: str, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds!r}")
        self.redis, self.key, self.ttl = redis, f"relay:leader:{name}", float(ttl_seconds)
        self.token = secrets.token_hex(16)
        self._take = redis.register_script(_TAKE_OR_RENEW)
        self._release = redis.register_script(_RELEASE)

    def acquire(self) -> bool:
        """Take the lease or extend ours; False when another holder has it (or Redis is down)."""
        try:
            return bool(self._take(keys=[self.key], args=[self.token, int(self.ttl * 1000)]))
        except RedisError:
            log.warning("leader lease not renewed: Redis did not answer", extra={"lease": self.key})
            return False

    def release(self) -> None:
        """Let another process take over at once (on a clean stop)."""
        try:
            self._release(keys=[self.key], args=[self.token])
        except RedisError:
            pass  # it expires on its own

    def holder(self) -> str | None:
        """The token of the current holder, if any."""
        value = self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value


class PeriodicDuties:
    """Run `duties` every `interval` seconds in whichever process holds the lease.

    Each tick every process calls `tick()`; only the holder runs the duties, and it renews the
    lease from a second thread while a duty runs, so a sweep slower than the lease time does not
    let another process start a second one beside it.
    """

    def __init__(
        self,
        lease: LeaderLease,
        duties: Sequence[Callable[[], object]],
        interval: float,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0, got {interval!r}")
        self.lease, self.duties, self.interval = lease, list(duties), float(interval)
        self._stop = threading.Event()

    def tick(self) -> bool:
        """Run the duties once if this process leads; True when it did."""
        if not self.lease.acquire():
            return False
        done = threading.Event()
        renewer = threading.Thread(target=self._renew_until, args=(done,), daemon=True)
        renewer.start()
        try:
            for duty in self.duties:
                try:
                    duty()
                except Exception:  # one failing duty must not stop the others or the loop
                    log.exception("periodic duty failed", extra={"duty": _name(duty)})
        finally:
            done.set()
            renewer.join(timeout=5)
        return True

    def _renew_until(self, done: threading.Event) -> None:
        while not done.wait(self.lease.ttl / 3):
            self.lease.acquire()

    def run_forever(self) -> None:
        """Tick every `interval` seconds until `stop()`; release the lease on the way out."""
        try:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self.interval)
        finally:
            self.lease.release()

    def stop(self) -> None:
        """Ask `run_forever` to end after the current tick."""
        self._stop.set()

    def start(self) -> threading.Thread:
        """Run `run_forever` in a daemon thread."""
        thread = threading.Thread(target=self.run_forever, name="periodic-duties", daemon=True)
        thread.start()
        return thread


def _name(duty: Callable[[], object]) -> str:
    return getattr(duty, "__qualname__", None) or repr(duty)
