"""The sweeper: the database is the truth, Redis only a reminder.

Re-enqueues what the database says is due but nobody picked up (Redis lost it, or the process
died between commit and enqueue). Settles stale claims (older than STALE_SENDING_SECONDS): one
whose "attempt started" marker was never written provably never reached a gateway and is
re-queued; one with the marker and no answer may be at the gateway, so it becomes `unknown`
(never a blind resend) and a job asks the gateways that can be asked
(`relay.delivery.resolve`).
Workers run it as a periodic duty of the leader (`relay/adapters/leader.py`), so one sweeper
runs at a time across all hosts; every change it makes is also guarded in the database
(`set_status` moves only from the statuses it names), so a manual `relay sweep` beside the
leader's does no harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from relay.delivery.resolve import ASK_JOB
from relay.messages.lifecycle import CLAIMABLE, MessageStatus, set_status
from relay.messages.viber import create_fallback
from relay.runtime import Runtime
from relay.storage.models import Message
from relay.storage.unit_of_work import committing, outbox_of

log = logging.getLogger("relay.sweeper")
ASK_FOR = timedelta(days=1)  # how long an `unknown` message's gateway is asked about it


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: int = 0
    unknown: int = 0
    never_sent: int = 0  # stale claims that never reached a gateway: re-queued
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
        sending = Message.status == MessageStatus.SENDING
        never_sent = (
            session.execute(
                select(Message.id)
                .where(sending, Message.attempt_started_at.is_(None), Message.updated_at <= stale)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if never_sent:
            # conditional on the marker still being unset: a worker that marks it first sends
            # it, and this UPDATE then leaves it alone (the token it clears stops the other way)
            detail = "claimed but never sent (no request was made); re-queued"
            never_sent = set_status(
                session,
                never_sent,
                now,
                to=MessageStatus.QUEUED,
                only_from=(MessageStatus.SENDING,),
                where=[Message.attempt_started_at.is_(None)],
                detail=detail,
                values={"claim_token": None, "enqueued_at": now, "not_before": None},
            )
        stuck = (
            session.execute(
                select(Message.id)
                .where(and_(sending, Message.attempt_started_at <= stale))
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if stuck:
            detail = "no answer from the send attempt; not resent automatically"
            stuck = set_status(
                session,
                stuck,
                now,
                to=MessageStatus.UNKNOWN,
                only_from=(MessageStatus.SENDING,),
                detail=detail,
                values={"reason_detail": detail, "claim_token": None},
            )
        # `unknown` since before the stale limit (a gateway's "no such message" is trusted only
        # once it had time to process the request), for a day: asked again on each sweep
        ask = list(stuck) + list(
            session.execute(
                select(Message.id)
                .where(
                    Message.status == MessageStatus.UNKNOWN,
                    Message.provider.is_not(None),
                    Message.updated_at <= stale,
                    Message.updated_at > now - ASK_FOR,
                )
                .limit(limit)
            )
            .scalars()
            .all()
        )
        expired = _expire_viber(session, now, limit)
    report.requeued, report.unknown, report.expired = len(due), len(stuck), expired
    report.never_sent = len(never_sent)
    if rt.dispatcher.coalesce and rt.dispatcher.pending():
        # ids wait on the pending list but the job armed for them was lost: arm another
        rt.dispatcher.arm()
    if ask:  # after the commit: the gateways that can be asked are, by a job
        rt.dispatcher.queue.enqueue(ASK_JOB, ask, result_ttl=0, failure_ttl=86400)
    if due or stuck or never_sent:
        log.info(
            "sweep",
            extra={"requeued": len(due), "unknown": len(stuck), "never_sent": len(never_sent)},
        )
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
