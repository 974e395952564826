"""The sweeper: the database is the truth, Redis only a reminder.

Re-enqueues what the database says is due but nobody picked up (Redis lost it, or the process
died between commit and enqueue), and turns claims that never got an answer into `unknown`
(never a blind resend: the gateway may have sent it). Workers run it as a periodic duty of
the leader (`relay/adapters/leader.py`), so one sweeper runs at a time across all hosts; every
change it makes is also guarded in the database (`set_status` moves only from the statuses it
names), so a manual `relay sweep` beside the leader's does no harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from relay.messages.lifecycle import CLAIMABLE, MessageStatus, set_status
from relay.messages.viber import create_fallback
from relay.runtime import Runtime
from relay.storage.models import Message
from relay.storage.unit_of_work import committing, outbox_of

log = logging.getLogger("relay.sweeper")


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: int = 0
    unknown: int = 0
    expired: int = 0


def sweep(rt: Runtime, grace_seconds: int = 60, limit: int = 20000) -> SweepReport:
    """Re-enqueue forgotten due messages; mark stale `sending` claims `unknown`."""
    report = SweepReport()
    now = rt.now()
    grace = now - timedelta(seconds=grace_seconds)
    stale = now - timedelta(seconds=int(rt.config["STALE_SENDING_SECONDS"]))
    with rt.session() as session, committing(session):
        # due but not claimed: a reminder only, the status stays (put on the queue after commit)
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
            session.execute(
                update(Message.__table__)
                .where(Message.__table__.c.id.in_(due))
                .values(enqueued_at=now)
            )
            outbox_of(session).deliver((m, None) for m in due)
        stuck = (
            session.execute(
                select(Message.id)
                .where(and_(Message.status == MessageStatus.SENDING, Message.updated_at <= stale))
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if stuck:
            detail = "no answer from the send attempt; not resent automatically"
            set_status(
                session,
                stuck,
                now,
                to=MessageStatus.UNKNOWN,
                only_from=(MessageStatus.SENDING,),
                detail=detail,
                values={"reason_detail": detail},
            )
        expired = _expire_viber(session, now, limit)
    report.requeued, report.unknown, report.expired = len(due), len(stuck), expired
    if due or stuck:
        log.info("sweep", extra={"requeued": len(due), "unknown": len(stuck)})
    return report


def _expire_viber(session: Session, now: datetime, limit: int) -> int:
    """Viber messages whose TTL passed with no delivery: `expired`, and their SMS fallback."""
    waiting = (MessageStatus.SENT, MessageStatus.UNKNOWN)
    rows = session.scalars(
        select(Message)
        .where(
            Message.channel == "viber",
            Message.status.in_(waiting),
            Message.expires_at.is_not(None),
            Message.expires_at <= now,
        )
        .limit(limit)
    ).all()
    moved = set(
        set_status(
            session,
            rows,
            now,
            to=MessageStatus.EXPIRED,
            only_from=waiting,
            detail="Viber TTL passed, no receipt",
        )
    )
    for msg in rows:
        if msg.id in moved:
            create_fallback(session, msg, now)
    return len(rows)
