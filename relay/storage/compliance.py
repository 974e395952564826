"""The evidence the law asks for: consent ledger, stop-list, numbering registry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relay.storage.base import Base
from relay.storage.types import UTCDateTime, utcnow

ALL_CHANNELS = "all"  # a stop-list entry or consent that covers every channel


class ConsentRecord(Base):
    """One append-only grant or revocation; the latest one per channel is the current state."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_lookup", "tenant_id", "phone", "recorded_at"),
        Index("ix_consent_records_chain", "tenant_id", "chain_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(32), default="marketing")
    channel: Mapped[str] = mapped_column(String(16), default=ALL_CHANNELS)
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(32))
    wording: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_pk: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    # the tamper-evident chain (relay.compliance.chain)
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    chain_prev: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class StopEntry(Base):
    """A number that must not be messaged (on one channel or on all)."""

    __tablename__ = "stoplist_entries"
    __table_args__ = (Index("ix_stoplist_lookup", "tenant_id", "phone", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16), default=ALL_CHANNELS)
    source: Mapped[str] = mapped_column(String(16))  # keyword | admin | import | crm
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NumberRange(Base):
    """A range of the national numbering registry, narrowed to a region and time zone."""

    __tablename__ = "numbering_ranges"
    __table_args__ = (Index("ix_numbering_start", "country", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    country: Mapped[str] = mapped_column(String(2))
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    operator: Mapped[str | None] = mapped_column(String(255))
    region_code: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))


class OptoutReview(Base):
    """A reply the opt-out recogniser was unsure of: a person decides; until then marketing to
    the number is held (a stop-list entry with source `review`, marketing only)."""

    __tablename__ = "optout_reviews"
    __table_args__ = (Index("ix_optout_reviews_tenant_status", "tenant_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    # pending | opt_out | not_opt_out
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StopChange(Base):
    """One change of the stop-list (an entry added or removed), append-only: the stop-list's
    history, which the entries themselves (deleted when lifted) cannot keep."""

    __tablename__ = "stoplist_changes"
    __table_args__ = (
        Index("ix_stoplist_changes_phone", "tenant_id", "phone", "id"),
        Index("ix_stoplist_changes_chain", "tenant_id", "chain_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(8))  # add | remove
    entry_id: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the tamper-evident chain (relay.compliance.chain)
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    chain_prev: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class LedgerHead(Base):
    """The last link of a tenant's chain (`-`: the operator's audit entries); writers lock it."""

    __tablename__ = "ledger_heads"

    tenant_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerDigest(Base):
    """A chain's head on a day, signed with the relay's Ed25519 key: publishable evidence that
    the chain up to `seq` was exactly this (relay.compliance.digests)."""

    __tablename__ = "ledger_digests"
    __table_args__ = (UniqueConstraint("tenant_key", "day", name="uq_ledger_digests_tenant_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_key: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
