"""What flows through the relay: events, templates, flows, messages and their history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from relay.storage.base import Base
from relay.storage.types import JSONText, UTCDateTime, new_id, utcnow

# the status vocabulary is the shared one (docs/architecture.md, 'API'): connectors and the
# relay agree on it; relay.messages.lifecycle says which status may follow which
from shared.writeback import MESSAGE_STATUSES

__all__ = ["MESSAGE_STATUSES"]


class Event(Base):
    """One accepted event; `(tenant_id, event_id)` is the idempotency key."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("tenant_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText)
    payload_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Template(Base):
    """A named, versioned message text (Jinja2, rendered in the sandbox)."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    category: Mapped[str] = mapped_column(String(16))
    sms_text: Mapped[str | None] = mapped_column(Text)
    viber_text: Mapped[str | None] = mapped_column(Text)
    viber: Mapped[dict[str, Any] | None] = mapped_column(JSONText)  # image, button, ttl
    sender: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flow(Base):
    """Event type + filter → template, category, channel plan, delay, cancel-on events."""

    __tablename__ = "flows"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(32))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    template: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    channels: Mapped[list[str]] = mapped_column(JSONText, default=lambda: ["sms"])
    delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    cancel_on: Mapped[list[str]] = mapped_column(JSONText, default=list)
    # which event field identifies the thing a later event cancels, e.g. "cart.id"
    cancel_key: Mapped[str | None] = mapped_column(String(64))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    survey_id: Mapped[int | None] = mapped_column(Integer)  # the flow sends this NPS survey


class Message(Base):
    """One message to one recipient on one channel, with its decision and delivery state."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_due", "status", "not_before"),
        Index("ix_messages_recipient", "tenant_id", "phone", "category", "created_at"),
        Index("ix_messages_cancel", "tenant_id", "cancel_key", "status"),
        Index("ix_messages_provider_ref", "provider", "provider_message_id"),
        # the message log and statistics filter a tenant's period; the archive picks by age
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
        Index("ix_messages_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_pk: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id", ondelete="SET NULL"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    viber: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    fallback_text: Mapped[str | None] = mapped_column(Text)
    fallback_of: Mapped[str | None] = mapped_column(String(32), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    reason_detail: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_key: Mapped[str | None] = mapped_column(String(200))
    timezones: Mapped[list[str] | None] = mapped_column(JSONText)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    encoding: Mapped[str | None] = mapped_column(String(8))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    provider: Mapped[str | None] = mapped_column(String(100))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # which claim holds a `sending` message: a worker sends only what its own claim still holds
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # set (and committed) just before the gateway is called: a stale claim without it provably
    # never left and is re-queued; with it, the gateway may have it (docs/security.md, Faults)
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONText)  # source/order for write-back
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Viber TTL: past this with no delivery receipt the message expires (and falls back to SMS)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign_id: Mapped[int | None] = mapped_column(Integer, index=True)


class MessageHistory(Base):
    """Every status change of a message, with its time: the audit trail shown in `history`."""

    __tablename__ = "message_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundMessage(Base):
    """A message a subscriber sent us, normalised from whichever gateway brought it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("provider", "dedupe_key"),
        Index("ix_inbound_sender", "sender", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(100))
    dedupe_key: Mapped[str] = mapped_column(String(64))  # gateways retry: same key, one row
    sender: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text | call
    routing: Mapped[str | None] = mapped_column(String(32))
    handled_as: Mapped[str | None] = mapped_column(String(32))
    message_id: Mapped[str | None] = mapped_column(String(32))  # the message it answers
    detail: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
