"""Recording events exactly once per (tenant, event_id), a whole batch in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from relay.storage.models import Event

_T = Event.__table__
# built once: a constant statement's cache key is memoised, and the values travel as
# parameters (one multi-row INSERT for a batch, SQLAlchemy's "insertmanyvalues")
_INSERT_ONCE = {
    name: dml(_T)
    .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
    .returning(_T.c.id, _T.c.tenant_id, _T.c.event_id, _T.c.occurred_at)
    for name, dml in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One event to record."""

    tenant_id: str
    event: Any  # shared.events.Event
    data: dict[str, Any]
    payload_hash: str


def insert_events_once(
    session: Session, events: Sequence[NewEvent], now: datetime
) -> list[Any | None]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: for each event (in order) its row (id,
    tenant_id, event_id, occurred_at), or None when it was recorded before. The events of one
    call must have distinct (tenant, event_id). One statement, no savepoint."""
    if not events:
        return []
    stmt = _INSERT_ONCE[session.get_bind().dialect.name]
    rows = (
        session.connection()
        .execute(
            stmt,
            [
                {
                    "tenant_id": e.tenant_id,
                    "event_id": e.event.event_id,
                    "type": e.event.type,
                    "payload": e.data,
                    "payload_hash": e.payload_hash,
                    "occurred_at": e.event.occurred_at,
                    "received_at": now,
                }
                for e in events
            ],
        )
        .all()
    )
    made = {(r.tenant_id, r.event_id): r for r in rows}
    return [made.get((e.tenant_id, e.event.event_id)) for e in events]
