"""Pausing, resuming and cancelling a campaign's unsent messages.

The message statuses are fixed (docs/architecture.md, 'API'), so a paused message stays
`scheduled`, with `reason_detail` "paused" and `not_before` pushed to PAUSED_UNTIL (year 9999):
no worker claims it, the sweeper never finds it due, and a delivery job already on the queue
claims nothing. On resume the paused messages are paced again (N per M minutes, as planned) from
the run's scheduled start when that is still ahead, else from the moment of resuming
(`resume_base`), and go through the policy once more, since a STOP or a quiet hour may have come
up meanwhile. Re-pacing, rather than restoring the old times, keeps a long pause from turning
into one burst of everything that fell due while it lasted; a pause and resume before the start
changes nothing. Cancelling turns every unsent message into `cancelled`. Every change goes
through `set_status` (one UPDATE for a pause or a cancel, one per resumed chunk), which writes
the history rows.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from relay.campaigns.planner import slot_time
from relay.decisions.decide_batch import Planned, decide_for
from relay.decisions.facts import active_sender_names
from relay.messages.lifecycle import CLAIMABLE, MessageStatus, Move, set_status
from relay.storage.dml import affected_rows
from relay.storage.models import Campaign, Message, Tenant
from relay.tenancy.settings import tenant_policy

log = logging.getLogger("relay.campaigns")
PAUSED_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
PAUSED_DETAIL = "paused"
CHUNK = 1000


def resume_base(progress: dict[str, Any], now: datetime) -> datetime:
    """Where resumed messages are paced from: the run's pacing origin (its scheduled start)
    while it is still ahead, else now. Used by resume and by the progress' ETA alike."""
    base = progress.get("base")
    return max(now, datetime.fromisoformat(base)) if base else now


def hold_campaign(session: Session, campaign_id: int, now: datetime) -> bool:
    """Take the campaign row for this transaction if it is still running (a pause or cancel
    then waits for the commit, and its message update sees what this one wrote)."""
    held = affected_rows(
        session,
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "running")
        .values(updated_at=now),
    )
    return bool(held)


def hold_planning(session: Session, campaign_id: int, now: datetime) -> bool:
    """`hold_campaign` for a planner writing a chunk: also False when the campaign was paused
    and resumed since the planner read it. The resume asked for the parked messages to be
    paced again (`progress["repace"]`); a planner that went on with its old pace and progress
    would overwrite that request and leave the parked messages parked for ever."""
    if not hold_campaign(session, campaign_id, now):
        return False
    progress = session.scalar(select(Campaign.progress).where(Campaign.id == campaign_id))
    return not (progress or {}).get("repace")


def save_progress(
    session: Session, campaign_id: int, progress: dict[str, Any], now: datetime
) -> None:
    """Write the campaign's progress JSON (in the caller's transaction)."""
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(progress=dict(progress), updated_at=now)
    )


def _set_status(
    session: Session,
    c: Campaign,
    status: str,
    allowed: tuple[str, ...],
    now: datetime,
    **extra: Any,
) -> bool:
    done = affected_rows(
        session,
        update(Campaign)
        .where(Campaign.id == c.id, Campaign.status.in_(allowed))
        .values(status=status, updated_at=now, **extra),
    )
    return bool(done)


def pause_messages(session: Session, c: Campaign, now: datetime) -> bool:
    """Mark the campaign paused and park its unsent messages; False if it was not running."""
    if not _set_status(session, c, "paused", ("running",), now):
        return False
    set_status(
        session,
        (),
        now,
        to=MessageStatus.SCHEDULED,
        only_from=CLAIMABLE,
        where=[Message.campaign_id == c.id],
        detail=PAUSED_DETAIL,
        values={"not_before": PAUSED_UNTIL, "reason": None, "reason_detail": PAUSED_DETAIL},
        enqueue=False,  # parked: nothing to deliver until the resume
    )
    return True


def cancel_messages(session: Session, c: Campaign, now: datetime) -> bool:
    """Mark the campaign cancelled and cancel its unsent messages; False if already over."""
    if not _set_status(session, c, "cancelled", ("running", "paused"), now, next_run_at=None):
        return False
    set_status(
        session,
        (),
        now,
        to=MessageStatus.CANCELLED,
        only_from=CLAIMABLE,
        where=[Message.campaign_id == c.id],
        detail="campaign cancelled",
        values={"reason": None, "reason_detail": "campaign cancelled"},
    )
    return True


def repace_paused(
    rt: Any, session: Session, c: Campaign, tenant: Tenant, progress: dict[str, Any]
) -> bool:
    """Pace the campaign's paused messages again from `progress["base"]`, deciding each at its
    new time; `progress["accepted"]` counts on (and is saved per chunk, so a crash resumes).
    Returns False when the campaign stopped running meanwhile."""
    policy = tenant_policy(tenant, active_sender_names(session, tenant.id))
    base = datetime.fromisoformat(progress["base"])
    while True:
        rows = session.execute(
            select(
                Message.id,
                Message.phone,
                Message.text,
                Message.sender,
                Message.channel,
                Message.category,
                Message.context,
            )
            .where(
                Message.campaign_id == c.id,
                Message.status == MessageStatus.SCHEDULED,
                Message.not_before >= PAUSED_UNTIL,
            )
            .order_by(Message.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return True
        now = rt.now()
        k = int(progress["accepted"])
        planned = []
        for m in rows:
            customer = (m.context or {}).get("customer") or {}
            planned.append(
                Planned(
                    phone=m.phone,
                    category=m.category,
                    channel=m.channel,
                    text=m.text,
                    sender=m.sender,
                    timezone=customer.get("timezone"),
                    region=customer.get("region"),
                    message_id=m.id,
                )
            )

        def slots(i: int, k: int = k) -> datetime:
            return slot_time(base, k + i, c.pace_count, c.pace_minutes)

        outcomes = decide_for(session, tenant, planned, now, slots=slots, policy=policy)
        moves = []
        for m, o in zip(rows, outcomes, strict=True):
            k += o.status is not MessageStatus.BLOCKED
            detail = o.detail if o.reason else "resumed"
            values = {
                "not_before": o.not_before,
                "reason": o.reason,
                "reason_detail": detail,
                "text": o.text,
            }
            moves.append(Move(m.id, o.status, o.reason, detail, values))
        if not hold_campaign(session, c.id, now):
            session.rollback()
            return False
        # only messages still parked move: a cancel meanwhile wins
        set_status(
            session,
            moves,
            now,
            only_from=(MessageStatus.SCHEDULED,),
            where=[Message.not_before >= PAUSED_UNTIL],
        )
        progress["accepted"] = k
        save_progress(session, c.id, progress, now)
        session.commit()
