"""Stop-list changes with the policy's rule: START lifts only what a keyword put there.

The rule is the policy's (docs/architecture.md, 'Policy').
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from relay.storage.dml import affected_rows
from relay.storage.models import ALL_CHANNELS, StopEntry

STOP_SOURCES = ("keyword", "admin", "import", "crm")


def add_stop(
    session: Session,
    tenant_id: str,
    phone: str,
    source: str,
    now: datetime,
    channel: str = ALL_CHANNELS,
    note: str | None = None,
) -> StopEntry:
    """Add an entry unless the same (phone, channel, source) exists; return the entry."""
    if source not in STOP_SOURCES:
        raise ValueError(f"stop-list source must be one of {STOP_SOURCES}, got {source!r}")
    existing = session.scalar(
        select(StopEntry).where(
            StopEntry.tenant_id == tenant_id,
            StopEntry.phone == phone,
            StopEntry.channel == channel,
            StopEntry.source == source,
        )
    )
    if existing is not None:
        return existing
    entry = StopEntry(
        tenant_id=tenant_id, phone=phone, channel=channel, source=source, note=note, created_at=now
    )
    session.add(entry)
    session.flush()
    return entry


def lift_keyword_stops(
    session: Session, tenant_id: str, phone: str, channel: str | None = None
) -> int:
    """Remove keyword entries for a number (START); admin, import and CRM entries stay."""
    stmt = delete(StopEntry).where(
        StopEntry.tenant_id == tenant_id, StopEntry.phone == phone, StopEntry.source == "keyword"
    )
    if channel is not None:
        stmt = stmt.where(StopEntry.channel.in_((channel, ALL_CHANNELS)))
    return affected_rows(session, stmt) or 0


def stop_entries(session: Session, tenant_id: str, phone: str) -> list[StopEntry]:
    """All entries for a number, oldest first."""
    return list(
        session.scalars(
            select(StopEntry)
            .where(StopEntry.tenant_id == tenant_id, StopEntry.phone == phone)
            .order_by(StopEntry.created_at)
        )
    )
