"""What the admin API adds: audit log, address books, campaigns, import jobs, message archive."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.sqltypes import NullType

from relay.storage.base import Base
from relay.storage.messaging import Message
from relay.storage.types import JSONText, UTCDateTime, search_key, utcnow


class AuditEntry(Base):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_tenant_at", "tenant_id", "at"),
        Index("ix_audit_log_chain", "tenant_id", "chain_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(String(32))  # None: operator-level change
    actor: Mapped[str] = mapped_column(String(64))  # "operator" or "key:<prefix>"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "template.update"
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the tamper-evident chain (relay.compliance.chain)
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    chain_prev: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class AddressBook(Base):
    """A tenant's list of contacts (uploaded from xlsx/csv or added by hand)."""

    __tablename__ = "address_books"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="ready")  # importing | ready
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contact(Base):
    """One person in an address book."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("book_id", "phone"),
        Index("ix_contacts_tenant_phone", "tenant_id", "phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("address_books.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    # search_key(name): filled on every insert (ORM or Core, see _contact_name_key) and when
    # the ORM sets a name; searches compare it with the query's key
    name_key: Mapped[str | None] = mapped_column(
        Text, default=lambda ctx: search_key(ctx.get_current_parameters().get("name"))
    )
    birthday: Mapped[date | None] = mapped_column(Date)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Contact.name, "set")
def _contact_name_key(target: Contact, value: str | None, _old: Any, _initiator: Any) -> None:
    target.name_key = search_key(value)


class Campaign(Base):
    """A send to a book or segment: template, channel plan, start, recurrence, pacing."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="campaign")  # campaign|birthday|date
    book_id: Mapped[int | None] = mapped_column(ForeignKey("address_books.id", ondelete="SET NULL"))
    segment: Mapped[dict[str, Any] | None] = mapped_column(JSONText)  # filter over contacts
    template: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16), default="marketing")
    sender: Mapped[str | None] = mapped_column(String(32))
    channels: Mapped[list[str]] = mapped_column(JSONText, default=lambda: ["sms"])
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recurrence: Mapped[str] = mapped_column(String(16), default="once")  # once|daily|monthly|yearly
    greeting_date: Mapped[str | None] = mapped_column(String(5))  # "MM-DD" for kind=date
    pace_count: Mapped[int | None] = mapped_column(Integer)  # N messages …
    pace_minutes: Mapped[int | None] = mapped_column(Integer)  # … per M minutes
    status: Mapped[str] = mapped_column(String(16), default="draft")
    test_phone: Mapped[str | None] = mapped_column(String(20))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A/B test: 2–4 template names (the first is `template`), the share of the book that gets
    # the test (percent; None: everyone), and the variant sent to the rest afterwards
    variants: Mapped[list[str] | None] = mapped_column(JSONText)
    test_share: Mapped[int | None] = mapped_column(Integer)
    winner: Mapped[str | None] = mapped_column(String(100))
    # "HH:MM": each recipient is released at that time on their own clock; with `local_until`
    # a window (paced messages that do not fit go on the next day's window); `best_hour`
    # releases a recipient with enough history at the hour they most often click or read
    local_time: Mapped[str | None] = mapped_column(String(5))
    local_until: Mapped[str | None] = mapped_column(String(5))
    best_hour: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ImportJob(Base):
    """A long import (address book, stop-list, consent) with its progress and per-row report."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # address_book | stoplist | consent
    target_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # {"rows": first N bad rows, "by_reason": counts, "truncated": bool}
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    error: Mapped[str | None] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# a delivery's working state, meaningless once a message is a year old: not archived
_NOT_ARCHIVED = frozenset({"claim_token", "attempt_started_at"})


def _archive_columns() -> list[Column[Any]]:
    """The messages table's columns without its foreign keys (archived rows outlive flows)."""
    columns = []
    for col in Message.__table__.columns:
        if col.name in _NOT_ARCHIVED:
            continue
        type_ = col.type
        if isinstance(type_, NullType):  # a foreign-key column: its type comes from the target
            type_ = String(32) if col.name == "tenant_id" else Integer()
        columns.append(Column(col.name, type_, primary_key=col.primary_key, nullable=col.nullable))
    return columns


# Messages older than 12 months move here, column for column, and stay queryable.
messages_archive = Table(
    "messages_archive",
    Base.metadata,
    *_archive_columns(),
    Index("ix_messages_archive_tenant_created", "tenant_id", "created_at"),
)
