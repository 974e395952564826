"""Reporting status changes back to the platform a message came from, and the after-commit
work of every transaction.

See docs/architecture.md, 'Connectors' and 'Message lifecycle'. Every status change is written
by `set_status`, which notes the message id and the platform it came from in the session's
outbox (`relay.storage.unit_of_work`). After the commit, `flush_outbox` puts new and moved
messages on the delivery queue, queues the handling of stored inbound messages and, when a
changed message comes from a platform with a connector, one write-back job per commit. The job
re-reads each message and hands a WritebackEvent to the connector registered for its platform,
so a late or repeated job reports the current state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rq import Queue, Retry
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.messages.lifecycle import REPORTED_TO_PLATFORMS
from relay.storage.models import Message, MessageHistory
from relay.storage.unit_of_work import Outbox, install_outbox
from shared.writeback import WritebackEvent

log = logging.getLogger("relay.writeback")
WRITEBACK_QUEUE = "relay-writeback"
WRITEBACK_JOB = "relay.jobs.writeback"
# statuses a platform hears about; `sending` and `scheduled` are internal steps
REPORTED = REPORTED_TO_PLATFORMS


def watch_status_changes(rt: Any) -> None:
    """Hand every committed transaction's outbox to `flush_outbox`."""
    queue = Queue(WRITEBACK_QUEUE, connection=rt.redis)
    install_outbox(rt.sessions, lambda box: flush_outbox(rt, queue, box))


def flush_outbox(rt: Any, writeback_queue: Queue, box: Outbox) -> None:
    """Do what a committed transaction asked for; a lost action is logged, never raised."""
    if box.deliveries:
        try:
            rt.dispatcher.dispatch(box.deliveries, rt.now())
        except Exception:  # Redis down: the sweeper will find them in the database
            log.exception("could not enqueue after commit")
    if box.inbound:
        try:
            rt.dispatcher.queue.enqueue(
                "relay.jobs.handle_inbound", box.inbound, result_ttl=0, failure_ttl=7 * 86400
            )
        except Exception:  # the rows are stored; `relay inbound retry` can re-run them
            log.exception("could not enqueue inbound handling")
    ids = box.reports_for(rt.writebacks) if rt.writebacks else []
    if ids:
        try:
            # a platform that is briefly down gets the report later, with backoff
            writeback_queue.enqueue(
                WRITEBACK_JOB,
                ids,
                result_ttl=0,
                failure_ttl=7 * 86400,
                retry=Retry(max=5, interval=[60, 300, 900, 3600, 3600]),
            )
        except Exception:  # Redis down: the status is committed; only the report is lost
            log.exception("could not enqueue write-back")


def writeback_event(msg: Message) -> WritebackEvent:
    """The event a connector receives for a message's current state."""
    return WritebackEvent(
        kind="status_changed",
        tenant_id=msg.tenant_id,
        message_id=msg.id,
        phone=msg.phone,
        status=msg.status,
        reason=msg.reason,
        text=msg.text,
        context=dict(msg.context or {}),
    )


def _passed_statuses(session: Session, ids: list[str]) -> dict[str, list[tuple[str, str | None]]]:
    """Every reported status each message went through, first time each, oldest first."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    rows = session.execute(
        select(MessageHistory.message_id, MessageHistory.status, MessageHistory.reason)
        .where(MessageHistory.message_id.in_(ids), MessageHistory.status.in_(REPORTED))
        .order_by(MessageHistory.message_id, MessageHistory.at, MessageHistory.id)
    )
    for message_id, status, reason in rows:
        seen = out.setdefault(message_id, [])
        if status not in {s for s, _ in seen}:
            seen.append((status, reason))
    return out


def run_writeback(rt: Any, message_ids: Sequence[str]) -> int:
    """Report each message's current status to its platform; returns how many were reported.

    A connector that says `reports_every_status` (its write-back is idempotent per message and
    status, as WooCommerce's order notes are) hears every status the message went through, in
    order: a message delivered before this job ran still gets its "sent" report."""
    if not rt.writebacks:
        return 0
    reported = 0
    with rt.session() as s:
        messages = s.scalars(select(Message).where(Message.id.in_(list(message_ids)))).all()
        every = [
            m.id
            for m in messages
            if getattr(
                rt.writebacks.get(((m.context or {}).get("source") or {}).get("platform")),
                "reports_every_status",
                False,
            )
        ]
        passed = _passed_statuses(s, every) if every else {}
    for msg in messages:
        platform = ((msg.context or {}).get("source") or {}).get("platform")
        handler = rt.writebacks.get(platform)
        if handler is None or msg.status not in REPORTED:
            continue
        for status, reason in passed.get(msg.id, []):
            if status != msg.status:
                earlier = writeback_event(msg)
                handler.handle(
                    WritebackEvent(
                        kind=earlier.kind,
                        tenant_id=earlier.tenant_id,
                        message_id=earlier.message_id,
                        phone=earlier.phone,
                        status=status,
                        reason=reason,
                        text=earlier.text,
                        context=earlier.context,
                    )
                )
        handler.handle(writeback_event(msg))
        reported += 1
    return reported
