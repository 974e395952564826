"""A campaign's progress: counts per status, what is left, and when it should be done.

Counted with GROUP BY over both the messages table and the archive (a yearly greeting's
earlier runs may have moved there); the ETA is the latest planned send time of what is left,
which already includes pacing and quiet hours, or, while a launch is still being planned, the
pace applied to the contacts not planned yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.campaigns.audience import count_book
from relay.campaigns.campaigns import tenant_zone
from relay.campaigns.pause import PAUSED_UNTIL, resume_base
from relay.campaigns.planner import slot_time
from relay.messages.lifecycle import CLAIMABLE, LIVE, WITH_GATEWAY, MessageStatus
from relay.messages.messages import iso
from relay.storage.models import Campaign, Message, Tenant, messages_archive

# statuses that mean "handed to a gateway" (counted as sent so far)
SENT_STATUSES = WITH_GATEWAY
UNSPECIFIED = "unspecified"  # a blocked message recorded without a reason


def _status_counts(session: Session, campaign_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """Counts per status, and the blocked ones per reason, from the same rows (every run,
    archive included, blocks at planning, at resume and at send alike), so they add up."""
    counts: dict[str, int] = {}
    blocked: dict[str, int] = {}
    for table in (Message.__table__, messages_archive):
        rows = session.execute(
            select(table.c.status, table.c.reason, func.count())
            .where(table.c.campaign_id == campaign_id)
            .group_by(table.c.status, table.c.reason)
        )
        for status, reason, n in rows:
            counts[status] = counts.get(status, 0) + int(n)
            if status == MessageStatus.BLOCKED:
                key = reason or UNSPECIFIED
                blocked[key] = blocked.get(key, 0) + int(n)
    return counts, blocked


def progress(session: Session, tenant: Tenant, c: Campaign, now: datetime) -> dict[str, Any]:
    """Counts per status, planned total, sent so far, what is left and when it should end."""
    counts, blocked_by_reason = _status_counts(session, c.id)
    live = (Message.campaign_id == c.id, Message.status.in_(CLAIMABLE))
    parked = session.scalar(
        select(func.count()).select_from(Message).where(*live, Message.not_before >= PAUSED_UNTIL)
    )
    last = session.scalar(
        select(func.max(Message.not_before)).where(*live, Message.not_before < PAUSED_UNTIL)
    )
    state = dict(c.progress or {})
    remaining = sum(counts.get(s, 0) for s in LIVE)
    eta = max(last, now) if (last and c.status == "running") else None
    unplanned = 0
    if state.get("phase") == "planning":
        # contacts not yet planned are paced after the accepted ones (an upper bound: some
        # will be blocked, and field filters may drop some)
        unplanned = max(0, count_book(session, c) - int(state.get("planned", 0)))
        if c.pace_count and state.get("base"):
            base = datetime.fromisoformat(state["base"])
            total = int(state.get("accepted", 0)) + unplanned
            eta = max(eta or now, slot_time(base, max(total - 1, 0), c.pace_count, c.pace_minutes))
    resumed_eta = None
    if c.status == "paused":
        # what `resume` would do: the parked (and, mid-launch, the unplanned) recipients paced
        # from `resume_base`; the last slot (quiet hours may still push some later)
        waiting = int(parked or 0) + unplanned
        if waiting:
            base = resume_base(state, now)
            resumed_eta = slot_time(base, waiting - 1, c.pace_count, c.pace_minutes)
    zone = tenant_zone(tenant)
    return {
        "campaign_id": c.id,
        "status": c.status,
        "phase": state.get("phase"),
        "counts": counts,
        "planned": sum(counts.values()),
        "sent": sum(counts.get(s, 0) for s in SENT_STATUSES),
        "delivered": counts.get(MessageStatus.DELIVERED, 0) + counts.get(MessageStatus.READ, 0),
        "blocked": counts.get(MessageStatus.BLOCKED, 0),
        "blocked_by_reason": blocked_by_reason,
        "remaining": remaining,
        "paused": int(parked or 0),
        "not_yet_planned": unplanned,
        "eta": iso(eta.astimezone(zone)) if eta else None,
        "eta_if_resumed_now": iso(resumed_eta.astimezone(zone)) if resumed_eta else None,
        "complete": remaining == 0 and state.get("phase") in ("planned", None),
        "run": state.get("run"),
        "runs": state.get("runs", 0),
        "next_run_at": iso(c.next_run_at.astimezone(zone)) if c.next_run_at else None,
    }
