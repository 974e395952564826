"""Pausing, resuming and cancelling a campaign's unsent messages.

The message statuses are fixed (docs/architecture.md, 'API'), so a paused message stays
`scheduled`, with `reason_detail` "paused" and `not_before` pushed to PAUSED_UNTIL (year 9999):
no worker claims it, the sweeper never finds it due, and a delivery job already on the queue
claims nothing. On resume the paused messages are paced again (N per M minutes, as planned) from
the run's scheduled start when that is still ahead, else from the moment of resuming
(`resume_base`), and go through the policy once more, since a STOP or a quiet hour may have come
up meanwhile. Re-pacing, rather than restoring the old times, keeps a long pause from turning
into one burst of everything that fell due while it lasted; a pause and resume before the start
changes nothing. Cancelling turns every unsent message into `cancelled`. Each change writes
history rows with INSERT … SELECT, before the UPDATE, so no id list is held in memory.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, literal, null, select, update
from sqlalchemy.orm import Session

from relay.campaigns.planner import slot_time
from relay.decisions.facts import RecipientContext, active_sender_names, load_facts
from relay.policy import BLOCK, DEFER, PolicyMessage, decide
from relay.storage.models import CLAIMABLE, Campaign, Message, MessageHistory, Tenant
from relay.storage.types import UTCDateTime
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
    held = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "running")
        .values(updated_at=now)
    )
    return bool(held.rowcount)


def save_progress(
    session: Session, campaign_id: int, progress: dict[str, Any], now: datetime
) -> None:
    """Write the campaign's progress JSON (in the caller's transaction)."""
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(progress=dict(progress), updated_at=now)
    )


def dispatch_safely(rt: Any, items: list[tuple[str, datetime | None]], now: datetime) -> None:
    """Put committed message ids on the queue; if Redis is down the sweeper finds them."""
    if not items:
        return
    try:
        rt.dispatcher.dispatch(items, now)
    except Exception:
        log.exception("could not enqueue campaign messages")


def _history_from_select(
    session: Session, where: list[Any], status: str, detail: str, now: datetime
) -> None:
    session.execute(
        insert(MessageHistory).from_select(
            ["message_id", "status", "reason", "detail", "at"],
            select(
                Message.id,
                literal(status),
                null(),
                literal(detail),
                literal(now, UTCDateTime()),
            ).where(*where),
        )
    )


def _set_status(
    session: Session,
    c: Campaign,
    status: str,
    allowed: tuple[str, ...],
    now: datetime,
    **extra: Any,
) -> bool:
    done = session.execute(
        update(Campaign)
        .where(Campaign.id == c.id, Campaign.status.in_(allowed))
        .values(status=status, updated_at=now, **extra)
    )
    return bool(done.rowcount)


def pause_messages(session: Session, c: Campaign, now: datetime) -> bool:
    """Mark the campaign paused and park its unsent messages; False if it was not running."""
    if not _set_status(session, c, "paused", ("running",), now):
        return False
    where = [Message.campaign_id == c.id, Message.status.in_(CLAIMABLE)]
    _history_from_select(session, where, "scheduled", PAUSED_DETAIL, now)
    session.execute(
        update(Message)
        .where(*where)
        .values(
            status="scheduled",
            not_before=PAUSED_UNTIL,
            reason=None,
            reason_detail=PAUSED_DETAIL,
            updated_at=now,
        )
    )
    return True


def cancel_messages(session: Session, c: Campaign, now: datetime) -> bool:
    """Mark the campaign cancelled and cancel its unsent messages; False if already over."""
    if not _set_status(session, c, "cancelled", ("running", "paused"), now, next_run_at=None):
        return False
    where = [Message.campaign_id == c.id, Message.status.in_(CLAIMABLE)]
    _history_from_select(session, where, "cancelled", "campaign cancelled", now)
    session.execute(
        update(Message)
        .where(*where)
        .values(status="cancelled", reason=None, reason_detail="campaign cancelled", updated_at=now)
    )
    return True


_REPACE = (
    update(Message.__table__)
    .where(
        Message.__table__.c.id == bindparam("b_id"),
        Message.__table__.c.status == "scheduled",
        Message.__table__.c.not_before >= PAUSED_UNTIL,
    )
    .values(
        status=bindparam("b_status"),
        not_before=bindparam("b_not_before"),
        reason=bindparam("b_reason"),
        reason_detail=bindparam("b_detail"),
        text=bindparam("b_text"),
        updated_at=bindparam("b_now"),
    )
)


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
                Message.status == "scheduled",
                Message.not_before >= PAUSED_UNTIL,
            )
            .order_by(Message.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return True
        now = rt.now()
        facts = load_facts(
            session,
            c.tenant_id,
            {m.phone for m in rows},
            now,
            window_days=policy.frequency_window.days,
            marketing=c.category == "marketing",
        )
        params, history, dispatch = [], [], []
        k = int(progress["accepted"])
        for m in rows:
            at = slot_time(base, k, c.pace_count, c.pace_minutes)
            customer = (m.context or {}).get("customer") or {}
            decision = decide(
                PolicyMessage(
                    phone=m.phone,
                    category=m.category,
                    channel=m.channel,
                    text=m.text,
                    sender=m.sender,
                ),
                facts.for_phone(
                    m.phone,
                    RecipientContext(customer.get("timezone"), customer.get("region")),
                    exclude_id=m.id,
                ),
                policy,
                at,
            )
            reason = decision.reasons[0] if decision.action != "send" else None
            if decision.action == BLOCK:
                status, not_before = "blocked", None
            else:
                k += 1
                not_before = decision.not_before if decision.action == DEFER else at
                status = "queued" if not_before <= now else "scheduled"
                dispatch.append((m.id, not_before))
            detail = reason.detail if reason else "resumed"
            params.append(
                {
                    "b_id": m.id,
                    "b_status": status,
                    "b_not_before": not_before,
                    "b_reason": reason.code if reason else None,
                    "b_detail": detail,
                    "b_text": decision.text,
                    "b_now": now,
                }
            )
            history.append(
                {
                    "message_id": m.id,
                    "status": status,
                    "reason": reason.code if reason else None,
                    "detail": detail,
                    "at": now,
                }
            )
        if not hold_campaign(session, c.id, now):
            session.rollback()
            return False
        session.execute(_REPACE, params)
        session.execute(insert(MessageHistory.__table__), history)
        progress["accepted"] = k
        save_progress(session, c.id, progress, now)
        session.commit()
        dispatch_safely(rt, dispatch, now)
