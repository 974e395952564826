"""The unit of work: a session, and the outbox of what is to happen once it has committed.

A use case writes rows and notes in `session.outbox` what follows from them: message ids to
put on the delivery queue (with their `not_before`), messages whose status changed (the
platform hears about them), inbound messages to handle. The outbox is handed to the sink that
the composition root installed (`install_outbox`) only after the transaction has committed,
and it is emptied, unsent, when the transaction rolls back or the session closes without a
commit. So an id never reaches the queue before its row is in the database; a crash between
the commit and the sink leaves rows the sweeper finds
(docs/architecture.md, 'Message lifecycle').
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker


@dataclass
class Outbox:
    """After-commit work of one transaction."""

    deliveries: list[tuple[str, datetime | None]] = field(default_factory=list)
    # message id → the platform it came from ("" none, None not known: the report job filters)
    status_changes: dict[str, str | None] = field(default_factory=dict)
    inbound: list[int] = field(default_factory=list)

    def deliver(self, items: Iterable[tuple[str, datetime | None]]) -> None:
        """Put these (message id, not_before) pairs on the delivery queue after the commit."""
        self.deliveries.extend(items)

    def status_changed(
        self, ids: Iterable[str], platforms: Iterable[str | None] | None = None
    ) -> None:
        """Report these messages' new status to their platforms after the commit."""
        if platforms is None:
            for mid in ids:
                self.status_changes.setdefault(mid, None)
            return
        for mid, platform in zip(ids, platforms, strict=True):
            if self.status_changes.get(mid) is None:
                self.status_changes[mid] = platform
            # a platform noted once for an id stays: the id's origin does not change

    def inbound_stored(self, ids: Iterable[int]) -> None:
        """Handle these stored inbound messages after the commit."""
        self.inbound.extend(ids)

    def reports_for(self, platforms: Iterable[str]) -> list[str]:
        """The changed message ids a platform among `platforms` (or an unknown one) may want."""
        wanted = set(platforms)
        return sorted(
            mid
            for mid, platform in self.status_changes.items()
            if platform is None or platform in wanted
        )

    def __bool__(self) -> bool:
        return bool(self.deliveries or self.status_changes or self.inbound)


class RelaySession(Session):
    """A session with its outbox (`relay.storage.db.make_session_factory` makes these)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox = Outbox()


def outbox_of(session: Session) -> Outbox:
    """The outbox of the session's current transaction."""
    box = getattr(session, "outbox", None)
    if not isinstance(box, Outbox):
        raise TypeError(
            f"a session without an outbox ({type(session).__name__}): "
            "sessions come from relay.storage.db.make_session_factory"
        )
    return box


OutboxSink = Callable[[Outbox], None]


def install_outbox(sessions: sessionmaker[Any], sink: OutboxSink) -> None:
    """Hand each committed transaction's outbox to `sink`; drop it on rollback or close.

    A released savepoint (`begin_nested`) is no commit: its work waits for the transaction's.
    The sink runs after the commit, so it must not raise for a lost action (Redis down): the
    rows are committed, and the sweeper or a retry recovers what the sink could not do.
    """

    @event.listens_for(sessions, "after_commit")
    def _flush(session: Session) -> None:
        if session.in_nested_transaction():
            return
        box = outbox_of(session)
        session.outbox = Outbox()  # type: ignore[attr-defined]
        if box:
            sink(box)

    @event.listens_for(sessions, "after_transaction_end")
    def _discard(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and isinstance(session, RelaySession):
            session.outbox = Outbox()  # rolled back or closed: nothing of it happens


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
