"""Moving messages older than 12 months to `messages_archive`, in batches.

Each batch is one transaction: INSERT INTO messages_archive SELECT … FROM messages for a batch
of ids, then DELETE them from messages. Only messages that can no longer change move: not
`scheduled`, `queued` or `sending`.

History: `message_history` references `messages` with ON DELETE CASCADE and there is no history
archive table, so before the DELETE each archived row gets its status history folded into its
`context` JSON under "history" ([{status, reason, detail, at}, …], oldest first). The log and
the reports read the archive; nothing else ever joins history to an archived message. (A
`message_history_archive` table would keep the rows as rows; see the hand-over note.)
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from relay.messages.lifecycle import LIVE
from relay.storage.models import Message, MessageHistory, messages_archive

log = logging.getLogger("relay.archive")
KEEP_LIVE = LIVE  # still moving: never archived


@dataclass
class ArchiveReport:
    """How many messages moved, in how many batches."""

    moved: int = 0
    batches: int = 0


def _columns() -> list[str]:
    # the columns both tables share: a column added to messages later does not break the copy
    live = Message.__table__.c
    return [c.name for c in messages_archive.c if c.name in live]


def _fold_history(session: Session, ids: list[str]) -> None:
    """Copy each archived message's history into its archive row's context."""
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(
        select(
            MessageHistory.message_id,
            MessageHistory.status,
            MessageHistory.reason,
            MessageHistory.detail,
            MessageHistory.at,
        )
        .where(MessageHistory.message_id.in_(ids))
        .order_by(MessageHistory.message_id, MessageHistory.at, MessageHistory.id)
    )
    for mid, status, reason, detail, at in rows:
        history[mid].append(
            {"status": status, "reason": reason, "detail": detail, "at": at.isoformat()}
        )
    if not history:
        return
    contexts = dict(
        session.execute(
            select(messages_archive.c.id, messages_archive.c.context).where(
                messages_archive.c.id.in_(list(history))
            )
        ).all()
    )
    session.execute(
        update(messages_archive)
        .where(messages_archive.c.id == bindparam("b_id"))
        .values(context=bindparam("b_context")),
        [
            {"b_id": mid, "b_context": {**(contexts.get(mid) or {}), "history": items}}
            for mid, items in history.items()
        ],
    )


def archive_batch(session: Session, cutoff: datetime, batch: int) -> int:
    """Move up to `batch` messages created before `cutoff`; the caller commits."""
    ids = list(
        session.scalars(
            select(Message.id)
            # no ORDER BY: any old rows will do, and the scan stops at the batch size
            .where(Message.created_at < cutoff, Message.status.not_in(KEEP_LIVE))
            .limit(batch)
        )
    )
    if not ids:
        return 0
    cols = _columns()
    live = Message.__table__
    session.execute(
        insert(messages_archive).from_select(
            cols, select(*(live.c[name] for name in cols)).where(live.c.id.in_(ids))
        )
    )
    _fold_history(session, ids)
    session.execute(delete(MessageHistory).where(MessageHistory.message_id.in_(ids)))
    session.execute(delete(live).where(live.c.id.in_(ids)))
    return len(ids)


def archive_messages(
    sessions: Callable[[], Session],
    now: datetime,
    older_than_days: int = 365,
    batch: int = 5000,
    max_batches: int | None = None,
) -> ArchiveReport:
    """Archive in batches until nothing is older than the cut-off (one transaction each)."""
    if older_than_days < 1 or batch < 1:
        raise ValueError("older_than_days and batch must be at least 1")
    cutoff = now - timedelta(days=older_than_days)
    report = ArchiveReport()
    while max_batches is None or report.batches < max_batches:
        with sessions() as session:
            try:
                moved = archive_batch(session, cutoff, batch)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        if not moved:
            break
        report.moved += moved
        report.batches += 1
    if report.moved:
        log.info("archived", extra={"moved": report.moved, "batches": report.batches})
    return report


def archive_old_messages(rt: Any, older_than_days: int = 365, batch: int = 5000) -> ArchiveReport:
    """Archive messages older than `older_than_days` (default 12 months) for a runtime."""
    return archive_messages(rt.session, rt.now(), older_than_days, batch)
