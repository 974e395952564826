"""Writing planned chunks on a second connection while the planner decides the next one.

Planning is CPU work in Python (render, decide); writing is mostly the database's work
(indexes, commit). Handing each finished chunk to a writer thread lets the two overlap: the
writer holds the campaign row, writes the chunk, saves the progress and commits — one
transaction per chunk as before — and the commit puts the ids on the queue (the outbox). At
most one chunk waits while another is being written, so memory stays at a few chunks.

Overlapping is safe because a book holds each phone once: the facts of the next chunk (its
recipients' recent marketing) cannot depend on rows the writer has not committed yet.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from relay.campaigns.pause import hold_planning, save_progress
from relay.campaigns.planner import ChunkResult, write_chunk
from relay.growth.links import cache_links

log = logging.getLogger("relay.campaigns")


class Statistics:
    """Keeps PostgreSQL's row estimates for `messages` honest while a launch writes into it.

    Each chunk's facts query looks up recent marketing messages for 1,000 phones. With
    statistics taken before the launch, PostgreSQL believes the tenant has few of them and
    scans all of the tenant's marketing rows per query instead of probing the index by phone,
    and that scan grows with every chunk written (quadratic: 100,000 contacts took minutes).
    ANALYZE after 2,000, 4,000, 8,000 … rows written (a handful per launch) keeps the
    estimate within a factor of two. A database user that does not own the table gets a
    warning from PostgreSQL, not an error. Other databases need nothing.
    """

    def __init__(self, session: Session, first: int = 2000) -> None:
        self.session = session
        self.enabled = session.get_bind().dialect.name == "postgresql"
        self.written, self.next_at = 0, first

    def wrote(self, rows: int) -> None:
        """Count rows written (and committed); refresh the statistics when due."""
        self.written += rows
        if self.enabled and self.written >= self.next_at:
            self.session.execute(text("ANALYZE messages"))
            self.session.commit()
            self.next_at *= 2


class ChunkWriter:
    """A background writer for one planning run (use as a context manager)."""

    def __init__(self, rt: Any, campaign_id: int, lock_key: str, lock_ttl: int) -> None:
        self.rt, self.campaign_id = rt, campaign_id
        self.lock_key, self.lock_ttl = lock_key, lock_ttl
        self.stopped = False  # the campaign stopped running (paused, cancelled, resumed anew)
        self.error: BaseException | None = None
        self.saved: dict[str, Any] | None = None  # the progress of the last committed chunk
        self._items: queue.Queue[tuple[ChunkResult, dict[str, Any]] | None] = queue.Queue(1)
        self._thread = threading.Thread(target=self._run, name="campaign-writer", daemon=True)

    def __enter__(self) -> ChunkWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._items.put(None)
        self._thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error

    def submit(self, result: ChunkResult, progress: dict[str, Any]) -> bool:
        """Queue a chunk with the progress to save with it; False once the run must stop."""
        if self.error is not None:
            raise self.error
        if self.stopped:
            return False
        self._items.put((result, dict(progress)))
        return True

    def _run(self) -> None:
        try:
            with self.rt.session() as session:
                stats = Statistics(session)
                while (item := self._items.get()) is not None:
                    if self.error is None and not self.stopped:
                        self._write(session, stats, *item)
        except BaseException as exc:  # e.g. no connection: keep draining so submit never blocks
            self.error = exc
            while self._items.get() is not None:
                pass

    def _write(
        self, session: Session, stats: Statistics, result: ChunkResult, progress: dict[str, Any]
    ) -> None:
        try:
            now = self.rt.now()
            if not hold_planning(session, self.campaign_id, now):
                # paused, cancelled or resumed anew: the saved cursor says where to go on
                session.rollback()
                self.stopped = True
                return
            write_chunk(session, result, now)
            save_progress(session, self.campaign_id, progress, now)
            session.commit()
            if result.links:  # a redirect then needs no database query
                cache_links(self.rt.redis, result.links, now)
            self.saved = progress
            self.rt.redis.expire(self.lock_key, self.lock_ttl)
            stats.wrote(len(result.messages))
        except BaseException as exc:  # handed to the planner thread, which raises it
            session.rollback()
            log.exception("writing a campaign chunk failed")
            self.error = exc
