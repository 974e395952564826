"""Viber messages: TTL expiry and the SMS fallback (sent once). The payload itself (image,
button caption and http(s) URL, TTL) is validated by the shared wire schema at intake.

When a Viber message is undelivered, fails, or its TTL passes with no delivery receipt, its
SMS fallback text becomes a new SMS message linked by `fallback_of`. The fallback's id is
derived from the Viber message's id, so however many receipts, sweeps or workers trigger it,
the primary key lets exactly one row exist.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus, NewMessage, set_status
from relay.messages.messages import apply_segments
from relay.storage.models import Message

DEFAULT_TTL = 24 * 3600
FALLBACK_STATUSES = (MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED)


def expiry(msg: Message, sent_at: datetime) -> datetime | None:
    """When a sent Viber message expires."""
    if msg.channel != "viber":
        return None
    return sent_at + timedelta(seconds=int((msg.viber or {}).get("ttl", DEFAULT_TTL)))


def fallback_id(message_id: str) -> str:
    """The one possible id of a message's SMS fallback."""
    return hashlib.sha256(f"fallback:{message_id}".encode()).hexdigest()[:32]


def create_fallback(session: Session, msg: Message, now: datetime) -> str | None:
    """Create the SMS fallback of a Viber message once; returns its id if this call made it."""
    if msg.channel != "viber" or not msg.fallback_text or msg.fallback_of:
        return None
    row = Message(
        id=fallback_id(msg.id),
        tenant_id=msg.tenant_id,
        event_pk=msg.event_pk,
        flow_id=msg.flow_id,
        template_id=msg.template_id,
        phone=msg.phone,
        channel="sms",
        category=msg.category,
        sender=None,
        text=msg.fallback_text,
        urgent=msg.urgent,
        fallback_of=msg.id,
        context=msg.context,
        campaign_id=msg.campaign_id,
        created_at=now,
        updated_at=now,
        enqueued_at=now,
        attempts=0,
        segments=0,
        timezones=msg.timezones,
    )
    apply_segments(row)
    made = set_status(
        session,
        [NewMessage(row, MessageStatus.QUEUED, history_detail=f"SMS fallback of Viber {msg.id}")],
        now,
        if_absent=True,
    )
    return row.id if made else None
