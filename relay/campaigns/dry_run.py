"""A campaign's dry run: its audience through the same planning and decision path as a real
run (`plan_chunk`: rendering, facts, `decide()`, pacing, prices), counted and never written.

What the owner sees before anything is sent: how many would go, how many wait for quiet hours
(or another deferral), how many are blocked and why, the estimated cost and the last slot.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from relay.campaigns.audience import iter_audience_pages
from relay.campaigns.campaigns import tenant_zone
from relay.campaigns.planner import plan_chunk, prepare
from relay.campaigns.schedule import first_run
from relay.messages.lifecycle import MessageStatus
from relay.messages.messages import iso
from relay.storage.models import Campaign, Tenant

DRY_RUN_MAX = 200_000  # recipients decided at most; a larger book is counted up to here


def dry_run(session: Session, tenant: Tenant, c: Campaign, now: datetime) -> dict[str, Any]:
    """What a run of `c` starting at its first run time would do, per recipient, unwritten."""
    zone = tenant_zone(tenant)
    first = first_run(c, zone, now)
    base = max(first, now)
    ctx = prepare(session, c, tenant, iso(first) or "")
    blocked: Counter[str] = Counter()
    deferred_by: Counter[str] = Counter()
    recipients = send = deferred = 0
    cost: dict[str, Decimal] = {}
    segments = 0
    last: datetime | None = None
    accepted = 0
    truncated = False
    for page, _last in iter_audience_pages(session, c, chunk=1000):
        result = plan_chunk(session, ctx, page, base, accepted, now)
        accepted += result.accepted
        for m in result.messages:
            recipients += 1
            if m.status is MessageStatus.BLOCKED:
                blocked[m.reason or "unspecified"] += 1
                continue
            if m.reason:
                deferred += 1
                deferred_by[m.reason] += 1
            else:
                send += 1
            assert isinstance(m.row, dict)  # the planner's rows are column dicts
            row = m.row
            segments += int(row.get("segments") or 0)
            cur = row.get("currency") or ""
            cost[cur] = cost.get(cur, Decimal(0)) + Decimal(str(row.get("cost") or 0))
            at = row.get("not_before")
            if at is not None and (last is None or at > last):
                last = at
        if recipients >= DRY_RUN_MAX:
            truncated = True
            break
    return {
        "campaign_id": c.id,
        "first_run": iso(first.astimezone(zone)),
        "recipients": recipients,
        "send": send,
        "deferred": deferred,
        "deferred_by_reason": dict(deferred_by),
        "blocked": sum(blocked.values()),
        "blocked_by_reason": dict(blocked),
        "segments": segments,
        "cost": {k: str(v) for k, v in cost.items() if k},
        "last_slot": iso(last.astimezone(zone)) if last else None,
        "truncated": truncated,
        "channel": ctx.channel,
    }
