"""Putting message ids on RQ: batches of ids per job, pipelined, with `enqueue_at` for later.

Jobs carry ids only; the worker re-reads and re-checks everything, so a job that runs twice or
late is harmless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue

DELIVER_JOB = "relay.jobs.deliver"
JOB_MARGIN_SECONDS = 60  # claims, decisions and commits around the sends


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
    """Enqueues delivery jobs for message ids, now or at a time."""

    def __init__(
        self,
        redis: Redis,
        queue_name: str = "relay",
        batch_size: int = 200,
        send_timeout: float = 25.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size!r}")
        self.queue = Queue(queue_name, connection=redis)
        self.batch_size = batch_size
        self.timeout = job_timeout(batch_size, send_timeout)

    def _batches(self, ids: Sequence[str]) -> Iterable[list[str]]:
        for i in range(0, len(ids), self.batch_size):
            yield list(ids[i : i + self.batch_size])

    def dispatch(
        self, items: Iterable[tuple[str, datetime | None]], now: datetime | None = None
    ) -> int:
        """Enqueue (id, not_before) pairs; due ones in pipelined batches. Returns jobs made."""
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
        if due:
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
