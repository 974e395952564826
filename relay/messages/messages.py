"""Building message rows (from the planned messages that flows and replies make)
and presenting them on the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.messages.cost import estimate
from relay.storage.models import Message, MessageHistory, Template
from relay.storage.types import new_id
from shared.segments import count_segments


@dataclass
class PlannedMessage:
    """A message an event asks for, before the policy has decided on it."""

    phone: str
    channel: str
    category: str
    text: str
    sender: str | None = None
    urgent: bool = False
    delay: timedelta = timedelta(0)
    flow_id: int | None = None
    template_id: int | None = None
    cancel_key: str | None = None
    viber: dict[str, Any] | None = None
    fallback_text: str | None = None
    render_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an explicit UTC offset, or None."""
    return value.isoformat() if value else None


def new_message(
    tenant_id: str,
    event_pk: int | None,
    plan: PlannedMessage,
    context: dict[str, Any],
    now: datetime,
) -> Message:
    """A message row for a plan; the caller sets status and decision fields."""
    return Message(
        id=new_id(),
        tenant_id=tenant_id,
        event_pk=event_pk,
        flow_id=plan.flow_id,
        template_id=plan.template_id,
        phone=plan.phone,
        channel=plan.channel,
        category=plan.category,
        sender=plan.sender,
        text=plan.text,
        viber=plan.viber,
        fallback_text=plan.fallback_text,
        urgent=plan.urgent,
        cancel_key=plan.cancel_key,
        context={**context, **plan.extra} if plan.extra else context,
        created_at=now,
        updated_at=now,
        attempts=0,
        segments=0,
    )


def apply_segments(msg: Message, tariffs: dict[str, Any] | None = None) -> None:
    """Record encoding, segment count and the estimated cost (Viber: one message)."""
    if msg.channel == "sms":
        info = count_segments(msg.text)
        msg.encoding, msg.segments = info.encoding, info.segments
    else:
        msg.encoding, msg.segments = None, 1
    price = estimate(msg.phone, msg.channel, msg.segments, tariffs)
    msg.cost, msg.currency = price.cost, price.currency


def message_summary(msg: Message) -> dict[str, Any]:
    """The short form used in the intake answer."""
    return {
        "id": msg.id,
        "channel": msg.channel,
        "status": msg.status,
        "reason": msg.reason,
        "not_before": iso(msg.not_before),
    }


def message_detail(session: Session, msg: Message) -> dict[str, Any]:
    """The full form of GET /v1/messages/<id>, with every status change."""
    history = session.scalars(
        select(MessageHistory)
        .where(MessageHistory.message_id == msg.id)
        .order_by(MessageHistory.at, MessageHistory.id)
    )
    tpl = (
        session.execute(
            select(Template.name, Template.version).where(Template.id == msg.template_id)
        ).first()
        if msg.template_id
        else None
    )
    return {
        **message_summary(msg),
        "template": tpl.name if tpl else None,
        "template_version": tpl.version if tpl else None,
        "phone": msg.phone,
        "category": msg.category,
        "sender": msg.sender,
        "text": msg.text,
        "reason_detail": msg.reason_detail,
        "segments": msg.segments,
        "encoding": msg.encoding,
        "cost": str(msg.cost) if msg.cost is not None else None,
        "currency": msg.currency,
        "provider": msg.provider,
        "provider_message_id": msg.provider_message_id,
        "attempts": msg.attempts,
        "timezones": msg.timezones,
        "fallback_of": msg.fallback_of,
        "created_at": iso(msg.created_at),
        "updated_at": iso(msg.updated_at),
        "history": [
            {"status": h.status, "reason": h.reason, "detail": h.detail, "at": iso(h.at)}
            for h in history
        ],
    }
