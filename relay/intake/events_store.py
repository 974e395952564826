"""Recording an event exactly once per (tenant, event_id) in a single statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from relay.storage.models import Event


def insert_event_once(
    session: Session,
    tenant_id: str,
    event: Any,
    data: dict[str, Any],
    payload_hash: str,
    now: datetime,
) -> Any | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the row (id, event_id), or None when
    another request already recorded this event_id. One round trip, no savepoint."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Event)
        .values(
            tenant_id=tenant_id,
            event_id=event.event_id,
            type=event.type,
            payload=data,
            payload_hash=payload_hash,
            occurred_at=event.occurred_at,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
        .returning(Event.id, Event.event_id, Event.occurred_at)
    )
    return session.execute(stmt).first()
