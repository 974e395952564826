"""Short links, their clicks and the orders attributed to messages (docs/architecture.md,
'Growth')."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relay.storage.base import Base
from relay.storage.types import UTCDateTime, utcnow


class Link(Base):
    """One tracked link of one message: the unguessable token and the target it stands for."""

    __tablename__ = "links"
    __table_args__ = (Index("ix_links_message", "message_id"),)

    token: Mapped[str] = mapped_column(String(24), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Click(Base):
    """A counted click (at most one per link, client and minute): when, and a coarse agent."""

    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_message", "message_id"),
        Index("ix_clicks_tenant_at", "tenant_id", "at"),
        UniqueConstraint("token", "client", "minute", name="uq_clicks_once_a_minute"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(24))
    message_id: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    client: Mapped[str] = mapped_column(String(16))  # a salted hash of the address, not it
    minute: Mapped[int] = mapped_column(Integer)  # minutes since the epoch
    agent: Mapped[str] = mapped_column(String(16))  # "android" | "ios" | "desktop" | "other"
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attribution(Base):
    """An order (or a recovered cart) credited to the message that led to it, once per order."""

    __tablename__ = "attributions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_key", name="uq_attributions_order"),
        Index("ix_attributions_campaign", "campaign_id"),
        Index("ix_attributions_message", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    order_key: Mapped[str] = mapped_column(String(200))  # kind:platform:account:order id
    kind: Mapped[str] = mapped_column(String(16))  # "order" | "cart"
    via: Mapped[str] = mapped_column(String(16))  # "click" | "delivery"
    message_id: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    flow_id: Mapped[int | None] = mapped_column(Integer)
    event_pk: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GrowthCursor(Base):
    """How far the attribution scan has read the events table (one row per scan)."""

    __tablename__ = "growth_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
