"""The cabinet's home page figures: today's and the period's counts and spend (the numbers of
GET /v1/reports/stats, from `relay.reporting.reports.stats`), the last campaigns with their
progress, and what needs the store's attention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.campaigns.progress import SENT_STATUSES, progress
from relay.reporting.reports import default_period, stats
from relay.storage.models import Campaign, InboundMessage, SenderName, Tenant

FAILED_STATUSES = ("failed", "undelivered", "expired")
REPLY_KINDS = ("reply", "survey_comment", "survey_answer")


def summary(totals: dict[str, Any]) -> dict[str, Any]:
    """Sent (handed to a gateway), delivered (read included), read, failed, blocked, spend."""
    by = totals["by_status"]
    return {
        "messages": totals["messages"],
        "sent": sum(by.get(s, 0) for s in SENT_STATUSES),
        "delivered": by.get("delivered", 0) + by.get("read", 0),
        "read": by.get("read", 0),
        "failed": sum(by.get(s, 0) for s in FAILED_STATUSES),
        "blocked": by.get("blocked", 0),
        "waiting": sum(by.get(s, 0) for s in ("queued", "scheduled", "sending")),
        "spend": dict(totals["spend"]),
    }


def counts(session: Session, tenant: Tenant, now: datetime, days: int = 30) -> dict[str, Any]:
    """{"today": summary, "period": summary, "days": days, "from": start of the period}."""
    zone = ZoneInfo(tenant.timezone)
    today_start, end = default_period(zone, now, 1)
    period_start = default_period(zone, now, days)[0]
    # the totals only: the per-operator breakdown would cost a second scan of the period
    today = stats(session, tenant.id, zone, today_start, end, "day", with_operators=False)
    period = stats(session, tenant.id, zone, period_start, end, "day", with_operators=False)
    today, period = today["totals"], period["totals"]
    return {
        "today": summary(today),
        "period": summary(period),
        "days": days,
        "from": period_start.astimezone(zone),
    }


def recent_campaigns(
    session: Session, tenant: Tenant, now: datetime, limit: int = 5
) -> list[tuple[Campaign, dict[str, Any]]]:
    """The tenant's newest campaigns with their progress (relay/campaigns/progress.py)."""
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.tenant_id == tenant.id)
        .order_by(Campaign.id.desc())
        .limit(limit)
    )
    return [(c, progress(session, tenant, c, now)) for c in rows]


def needs_attention(
    session: Session, tenant_id: str, now: datetime, days: int = 7
) -> dict[str, int]:
    """Replies of the last `days` days (they wait for someone to read them), sender names
    not active yet, paused campaigns."""
    since = now.astimezone(UTC) - timedelta(days=days)
    replies = session.scalar(
        select(func.count())
        .select_from(InboundMessage)
        .where(
            InboundMessage.tenant_id == tenant_id,
            InboundMessage.handled_as.in_(REPLY_KINDS),
            InboundMessage.received_at >= since,
        )
    )
    senders = session.scalar(
        select(func.count())
        .select_from(SenderName)
        .where(SenderName.tenant_id == tenant_id, SenderName.state != "active")
    )
    paused = session.scalar(
        select(func.count())
        .select_from(Campaign)
        .where(Campaign.tenant_id == tenant_id, Campaign.status == "paused")
    )
    return {
        "replies": int(replies or 0),
        "senders_pending": int(senders or 0),
        "campaigns_paused": int(paused or 0),
    }
