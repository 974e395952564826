"""Status changes of messages, always with a history row, in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from relay.storage.models import Message, MessageHistory


def record_history(
    session: Session, rows: Sequence[tuple[str, str, str | None, str | None]], at: datetime
) -> None:
    """Insert history rows (message_id, status, reason, detail) in one statement."""
    if rows:
        # remembered for write-back, dispatched only after the commit (relay.platforms.writeback)
        session.info.setdefault("changed_messages", set()).update(r[0] for r in rows)
        session.connection().execute(
            MessageHistory.__table__.insert(),
            [
                {"message_id": mid, "status": st, "reason": rs, "detail": dt, "at": at}
                for mid, st, rs, dt in rows
            ],
        )


def set_status(
    session: Session,
    message_id: str,
    status: str,
    at: datetime,
    reason: str | None = None,
    detail: str | None = None,
    **fields: Any,
) -> None:
    """Move one message to `status` (plus any other columns) and record it in the history."""
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status=status, reason=reason, reason_detail=detail, updated_at=at, **fields)
    )
    record_history(session, [(message_id, status, reason, detail)], at)


@contextmanager
def committing(session: Session) -> Iterator[None]:
    """Commit what the block wrote (joining any transaction reads already began); roll back
    on error. Unlike `session.begin()` it does not mind an autobegun read transaction."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def note_platforms(session: Session, platforms: Iterable[str | None]) -> None:
    """Tell the after-commit write-back hook which platforms the changed messages came from;
    when none has a connector, no write-back job is queued. A path that never calls this is
    treated conservatively (the job runs and filters)."""
    session.info.setdefault("writeback_platforms", set()).update(p or "" for p in platforms)
