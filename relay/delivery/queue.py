"""Putting message ids on RQ: due ids coalesced into drain jobs, `enqueue_at` for later.

Due ids are appended to a Redis list per queue (`relay:deliver:<queue>:pending`); one drain
job (`relay.jobs.drain`) is enqueued only when none is waiting to start (the `armed` flag, set
with NX and an expiry). A drain job takes up to `batch_size` ids at a time off the list and
delivers them, looping while the list is not empty, so the per-job cost of RQ is paid per batch,
not per event. Deferred ids go on RQ's scheduler with `enqueue_at`, grouped by second.

Jobs and the list carry ids only; the worker re-reads and re-checks everything, so an id taken
twice or late is harmless, and an id Redis lost is found again by the sweeper (the database is
the truth; docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue

DELIVER_JOB = "relay.jobs.deliver"
DRAIN_JOB = "relay.jobs.drain"
JOB_MARGIN_SECONDS = 60  # claims, decisions and commits around the sends
# how long the `armed` flag outlives an enqueue whose job never starts (lost with Redis, or a
# crash between the flag and the enqueue): then the next push arms a new job
ARM_SECONDS = 15


def job_timeout(batch_size: int, send_timeout: float) -> int:
    """RQ timeout of a delivery job: every send of a full batch may take the gateway's whole
    timeout, so a slow gateway finishes its batch instead of being killed mid-way (which
    strands the claimed window; docs/security.md, "Stranded batches")."""
    if batch_size < 1 or send_timeout <= 0:
        raise ValueError(
            f"batch_size ≥ 1 and send_timeout > 0 required, got {batch_size!r}, {send_timeout!r}"
        )
    return int(batch_size * send_timeout) + JOB_MARGIN_SECONDS


class Dispatcher:
    """Puts message ids on the way to a worker: on the pending list now, or RQ at a time."""

    def __init__(
        self,
        redis: Redis,
        queue_name: str = "relay",
        batch_size: int = 200,
        send_timeout: float = 25.0,
        drain_seconds: float = 10.0,
        coalesce: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size!r}")
        if drain_seconds < 0:
            raise ValueError(f"drain_seconds must be ≥ 0, got {drain_seconds!r}")
        self.redis = redis
        self.queue = Queue(queue_name, connection=redis)
        self.batch_size = batch_size
        self.timeout = job_timeout(batch_size, send_timeout)
        # a drain job starts a new batch only within `drain_seconds`, and a batch may take
        # the whole `timeout`: RQ never kills a batch half sent
        self.drain_seconds = drain_seconds
        self.drain_timeout = self.timeout + int(drain_seconds)
        self.coalesce = coalesce
        self.pending_key = f"relay:deliver:{queue_name}:pending"
        self.armed_key = f"relay:deliver:{queue_name}:armed"

    # --- the pending list ------------------------------------------------------------------

    def push(self, ids: Sequence[str]) -> bool:
        """Append due ids to the pending list and arm a drain job unless one is waiting to
        start; True when this call enqueued it. One round trip, two when it arms."""
        if not ids:
            return False
        pipe = self.redis.pipeline(transaction=False)
        for i in range(0, len(ids), 10_000):
            pipe.rpush(self.pending_key, *ids[i : i + 10_000])
        pipe.set(self.armed_key, "1", nx=True, ex=ARM_SECONDS)
        if not pipe.execute()[-1]:
            return False  # a job that has not started yet will take these too
        self._enqueue_drain()
        return True

    def arm(self) -> bool:
        """Make sure a drain job waits to start (another worker may help with a long list)."""
        if not self.redis.set(self.armed_key, "1", nx=True, ex=ARM_SECONDS):
            return False
        self._enqueue_drain()
        return True

    def disarm(self) -> None:
        """A drain job has started: a push from now on arms the next one."""
        self.redis.delete(self.armed_key)

    def take(self, count: int) -> tuple[list[str], int]:
        """Atomically take up to `count` ids off the head of the pending list; also how many
        remain. LRANGE + LTRIM in MULTI, which every Redis version has (LPOP with a count
        needs 6.2)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.lrange(self.pending_key, 0, count - 1)
        pipe.ltrim(self.pending_key, count, -1)
        pipe.llen(self.pending_key)
        taken, _, left = pipe.execute()
        return [x.decode() if isinstance(x, bytes) else str(x) for x in taken], int(left)

    def pending(self) -> int:
        """Ids waiting on the pending list."""
        return int(self.redis.llen(self.pending_key))

    def _enqueue_drain(self) -> None:
        self.queue.enqueue(
            DRAIN_JOB, job_timeout=self.drain_timeout, result_ttl=0, failure_ttl=86400
        )

    def _batches(self, ids: Sequence[str]) -> Iterable[list[str]]:
        for i in range(0, len(ids), self.batch_size):
            yield list(ids[i : i + self.batch_size])

    def dispatch(
        self, items: Iterable[tuple[str, datetime | None]], now: datetime | None = None
    ) -> int:
        """Enqueue (id, not_before) pairs: due ones on the pending list (or, with coalescing
        off, in pipelined jobs of `batch_size`), later ones at their second. Returns jobs
        made."""
        now = now or datetime.now(UTC)
        due: list[str] = []
        later: dict[datetime, list[str]] = defaultdict(list)
        for message_id, not_before in items:
            if not_before is None or not_before <= now:
                due.append(message_id)
            else:
                # group by whole second so a bulk deferral makes few scheduled jobs
                at = not_before.replace(microsecond=0)
                if at < not_before:
                    at += timedelta(seconds=1)
                later[at].append(message_id)
        jobs = 0
        if due and self.coalesce:
            jobs += self.push(due)
        elif due:
            datas = [
                Queue.prepare_data(
                    DELIVER_JOB,
                    args=(batch,),
                    timeout=self.timeout,
                    result_ttl=0,
                    failure_ttl=86400,
                )
                for batch in self._batches(due)
            ]
            self.queue.enqueue_many(datas)
            jobs += len(datas)
        for at, ids in later.items():
            for batch in self._batches(ids):
                self.queue.enqueue_at(
                    at,
                    DELIVER_JOB,
                    batch,
                    job_timeout=self.timeout,
                    result_ttl=0,
                    failure_ttl=86400,
                )
                jobs += 1
        return jobs
