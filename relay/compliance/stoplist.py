"""Stop-list changes with the policy's rule: START lifts only what a keyword put there.

The rule is the policy's (docs/architecture.md, 'Policy').
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from relay.storage.models import ALL_CHANNELS, StopChange, StopEntry

# `review`: held for an opt-out review; blocks marketing only (relay.compliance.optout_review)
STOP_SOURCES = ("keyword", "admin", "import", "crm", "review")


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
    session.add(
        StopChange(
            tenant_id=tenant_id,
            action="add",
            entry_id=entry.id,
            phone=phone,
            channel=channel,
            source=source,
            note=note,
            actor=source,
            at=now,
        )
    )
    session.flush()
    return entry


def stop_change_rows(
    entries: Iterable[Any], action: str, actor: str | None, at: datetime, note: str | None = None
) -> list[StopChange]:
    """History rows for entries added or removed in bulk (imports, deletes, clear)."""
    return [
        StopChange(
            tenant_id=e.tenant_id,
            action=action,
            entry_id=e.id,
            phone=e.phone,
            channel=e.channel,
            source=e.source,
            note=note if note is not None else e.note,
            actor=(actor or "")[:64] or None,
            at=at,
        )
        for e in entries
    ]


def record_stop_removal(
    session: Session, entries: Iterable[StopEntry], actor: str | None, at: datetime, why: str
) -> None:
    """Write the history of entries that were just deleted."""
    session.add_all(stop_change_rows(entries, "remove", actor, at, why))
    session.flush()


def lift_keyword_stops(
    session: Session,
    tenant_id: str,
    phone: str,
    channel: str | None = None,
    now: datetime | None = None,
) -> int:
    """Remove keyword entries for a number (START); admin, import and CRM entries stay."""
    stmt = select(StopEntry).where(
        StopEntry.tenant_id == tenant_id, StopEntry.phone == phone, StopEntry.source == "keyword"
    )
    if channel is not None:
        stmt = stmt.where(StopEntry.channel.in_((channel, ALL_CHANNELS)))
    entries = list(session.scalars(stmt))
    if not entries:
        return 0
    session.execute(delete(StopEntry).where(StopEntry.id.in_([e.id for e in entries])))
    at = now or max(e.created_at for e in entries)
    record_stop_removal(session, entries, "keyword", at, "lifted by START")
    return len(entries)


def stop_entries(session: Session, tenant_id: str, phone: str) -> list[StopEntry]:
    """All entries for a number, oldest first."""
    return list(
        session.scalars(
            select(StopEntry)
            .where(StopEntry.tenant_id == tenant_id, StopEntry.phone == phone)
            .order_by(StopEntry.created_at)
        )
    )
