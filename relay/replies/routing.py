"""Routing a reply to its tenant (issue order): a dedicated number, a `login:` prefix, the
tenant that last sent to this number through the same shared number within 14 days, else
unrouted (kept for the operator)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus as _S
from relay.storage.models import InboundMessage, InboundNumber, Message, Tenant

SHARED_WINDOW = timedelta(days=14)
_PREFIX = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]{1,63})\s*:\s*(.*)$", re.S)


@dataclass(frozen=True)
class Route:
    """Where a reply goes and how that was decided."""

    tenant_id: str | None
    how: str  # dedicated_number | prefix | last_sender | unrouted
    text: str  # the reply without a routing prefix
    message_id: str | None = None  # the message it most likely answers


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number or "")


def route_reply(session: Session, inbound: InboundMessage, phone: str, now: datetime) -> Route:
    """Decide which tenant a reply from `phone` belongs to."""
    text = inbound.text or ""
    owned = session.scalar(
        select(InboundNumber.tenant_id).where(
            or_(
                InboundNumber.number == inbound.recipient,
                InboundNumber.number == "+" + _digits(inbound.recipient),
            )
        )
    )
    if owned:
        return Route(owned, "dedicated_number", text, last_message(session, owned, phone, now))
    prefixed = _PREFIX.match(text)
    if prefixed:
        login = prefixed.group(1).lower()
        tenant_id = session.scalar(select(Tenant.id).where(func.lower(Tenant.name) == login))
        if tenant_id:
            return Route(
                tenant_id,
                "prefix",
                prefixed.group(2).strip(),
                last_message(session, tenant_id, phone, now),
            )
    last = session.execute(
        select(Message.tenant_id, Message.id)
        .where(
            Message.phone == phone,
            Message.channel == "sms",
            Message.created_at >= now - SHARED_WINDOW,
            Message.status.in_((_S.SENT, _S.DELIVERED, _S.UNDELIVERED, _S.UNKNOWN, _S.READ)),
            # "through the same shared number": our sender name, or the same gateway account
            or_(Message.sender == inbound.recipient, Message.provider == inbound.provider),
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    ).first()
    if last:
        return Route(last.tenant_id, "last_sender", text, last.id)
    return Route(None, "unrouted", text)


def last_message(session: Session, tenant_id: str, phone: str, now: datetime) -> str | None:
    return session.scalar(
        select(Message.id)
        .where(
            Message.tenant_id == tenant_id,
            Message.phone == phone,
            Message.created_at >= now - SHARED_WINDOW,
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    )
