"""The sweeper: the database is the truth, Redis only a reminder.

Re-enqueues what the database says is due but nobody picked up (Redis lost it, or the process
died between commit and enqueue), and turns claims that never got an answer into `unknown`
(never a blind resend: the gateway may have sent it). One sweeper at a time across all hosts,
through a Redis lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from relay.runtime import Runtime
from relay.services.states import committing, record_history
from relay.storage.models import CLAIMABLE, Message

log = logging.getLogger("relay.sweeper")
LOCK_KEY = "relay:sweeper:lock"


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: int = 0
    unknown: int = 0
    skipped: bool = False


def sweep(rt: Runtime, grace_seconds: int = 60, limit: int = 20000) -> SweepReport:
    """Re-enqueue forgotten due messages; mark stale `sending` claims `unknown`."""
    report = SweepReport()
    interval = int(rt.config["SWEEP_INTERVAL_SECONDS"])
    if not rt.redis.set(LOCK_KEY, "1", nx=True, ex=max(1, interval - 1)):
        report.skipped = True
        return report
    now = rt.now()
    grace = now - timedelta(seconds=grace_seconds)
    stale = now - timedelta(seconds=int(rt.config["STALE_SENDING_SECONDS"]))
    with rt.session() as session, committing(session):
        due = (
            session.execute(
                select(Message.id)
                .where(
                    Message.status.in_(CLAIMABLE),
                    or_(Message.not_before.is_(None), Message.not_before <= grace),
                    or_(Message.enqueued_at.is_(None), Message.enqueued_at <= grace),
                )
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if due:
            session.execute(update(Message).where(Message.id.in_(due)).values(enqueued_at=now))
        stuck = (
            session.execute(
                select(Message.id)
                .where(and_(Message.status == "sending", Message.updated_at <= stale))
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if stuck:
            detail = "no answer from the send attempt; not resent automatically"
            session.execute(
                update(Message)
                .where(Message.id.in_(stuck), Message.status == "sending")
                .values(status="unknown", reason_detail=detail, updated_at=now)
            )
            record_history(session, [(m, "unknown", None, detail) for m in stuck], now)
    if due:
        rt.dispatcher.dispatch([(m, None) for m in due], now)
    report.requeued, report.unknown = len(due), len(stuck)
    if due or stuck:
        log.info("sweep", extra={"requeued": len(due), "unknown": len(stuck)})
    return report
