"""Group commit: the events that arrive together in one web process share one transaction.

Every `POST /v1/events` used to pay on its own for what does not depend on the event: a
connection checkout (with its liveness ping), BEGIN and COMMIT (a WAL flush on PostgreSQL)
and the outbox's after-commit round trip to Redis. Here the requests of a process that are
waiting at the same moment are handed to one of them, the leader, which submits them together
(`submit_events`: the events recorded in one INSERT, each tenant's messages decided in one
`decide_for` call and written in one INSERT) and commits once; the outbox then puts all their
messages on the queue in one go (relay/storage/unit_of_work.py). A batch is what queued up
while the previous one was running, gathered for at most a moment more ('Gathering' below); a
lone request goes at once. Every event of a batch is decided at the batch's time.

The answer of each request is exactly what it would get alone, decision included
(docs/architecture.md, 'The path of an event'): events of one batch are taken in arrival
order, and an event that changes what others read (a consent record, a cancellation) waits
until the events before it are written, so each sees what it would see one at a time. If
anything in a batch fails, the batch is rolled back and every event of it is submitted again
on its own, in its own transaction: a bad event (a 409, a 422) or a failing database is that
event's answer only, never its neighbours'. An event is therefore never half-written, and the
durable spool (relay/api/spool_http.py) still sees the database error in the request that
brought the event.

A leader serves one batch and then hands the lead to a request still waiting, so no request
waits for more than the batch before its own.

Gathering: a batch's transaction costs about as much CPU as the decisions of several events
(a connection checkout, five statements, the commit, the enqueue), so small batches make a busy
process spend most of its time on transactions. The web side tells the group when a request
for this route has started (`arriving`) and when it stopped being one without submitting
(`left`). A leader whose batch is not full waits, for at most `gather_seconds`, while requests
are on their way in (the rate limit, the body, authentication) or while fewer are queued than
its predecessor took: under a steady load the requests a batch answered come back together a
moment later, and without the wait every other batch would be a single event. A lone request,
after a batch of one and with nothing on its way in, still goes at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relay.errors import RelayError
from relay.intake.intake import IntakeResult, Submission, submit_event, submit_events
from relay.storage.models import Tenant

MAX_BATCH = 32  # a bound on what one transaction holds; a batch is rarely this long
# how long a leader waits for requests still on their way in: a few decisions' CPU time, far
# below the latency the route answers in (docs/architecture.md, 'The path of an event')
GATHER_SECONDS = 0.002


@dataclass(eq=False)
class _Pending:
    tenant: Tenant
    wire: Any
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to lead the next batch rather than with its answer
    result: IntakeResult | None = None
    error: BaseException | None = None


class GroupCommit:
    """Submit events through shared transactions (see the module's docstring)."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        clock: Callable[[], datetime],
        max_batch: int = MAX_BATCH,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)
        self._queue: list[_Pending] = []
        self._leading = False
        self._arriving = 0  # requests started and not yet submitted (or gone)
        self._expected = 1  # the last batch's size: as many are likely to come back soon
        self.batches = 0  # transactions committed for more than one event (a figure for tests)

    def arriving(self) -> None:
        """A request that will submit an event has started (see the module's docstring)."""
        with self._lock:
            self._arriving += 1

    def left(self) -> None:
        """A request counted by `arriving` ended without submitting (refused, invalid)."""
        with self._lock:
            self._arriving = max(0, self._arriving - 1)
            self._queued.notify_all()

    def submit(self, tenant: Tenant, wire: Any, counted: bool = False) -> IntakeResult:
        """Intake's answer for one event; raises what `submit_event` raises for it. `counted`:
        the request was announced by `arriving` (it is no longer on its way in)."""
        item = _Pending(tenant, wire)
        with self._lock:
            if counted:
                self._arriving = max(0, self._arriving - 1)
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
            self._queued.notify_all()
        while True:
            if lead:
                self._lead_one_batch()
            item.done.wait()
            if item.lead:  # handed the lead while still waiting: serve the next batch
                item.lead, lead = False, True
                item.done.clear()
                continue
            break
        if item.error is not None:
            raise item.error
        assert item.result is not None  # set with done unless error is
        return item.result

    def _lead_one_batch(self) -> None:
        with self._lock:
            deadline = time.monotonic() + self.gather_seconds
            while len(self._queue) < self.max_batch and (
                self._arriving > 0 or len(self._queue) < self._expected
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._queued.wait(remaining)
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self._expected = len(batch)
        try:
            self._run(batch)
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            if successor is not None:
                successor.lead = True
                successor.done.set()

    def _run(self, batch: list[_Pending]) -> None:
        if len(batch) > 1 and _distinct(batch) and self._together(batch):
            return
        for item in batch:  # alone: its own transaction, its own answer or error
            self._alone(item)

    def _together(self, batch: list[_Pending]) -> bool:
        session = self._sessions()
        try:
            answers = submit_events(
                session, [Submission(p.tenant, p.wire) for p in batch], self._clock()
            )
            session.commit()
        except Exception:
            session.rollback()
            return False
        finally:
            session.close()
        self.batches += 1
        for item, answer in zip(batch, answers, strict=True):
            if isinstance(answer, RelayError):
                item.error = answer
            else:
                item.result = answer
            item.done.set()
        return True

    def _alone(self, item: _Pending) -> None:
        session = self._sessions()
        try:
            item.result = submit_event(session, item.tenant, item.wire, self._clock())
            session.commit()
        except BaseException as exc:  # handed to the request that brought the event
            session.rollback()
            item.result, item.error = None, exc
        finally:
            session.close()
            item.done.set()


def _distinct(batch: list[_Pending]) -> bool:
    """No two events of the batch share (tenant, event_id): one INSERT records them all."""
    keys = {
        (p.tenant.id, p.wire.get("event_id") if isinstance(p.wire, dict) else None) for p in batch
    }
    return len(keys) == len(batch)
