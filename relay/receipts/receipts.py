"""Applying delivery receipts: idempotent, order-tolerant, never moving a message backwards.

Which status a receipt may move a message from is the lifecycle's transition table
(`relay.messages.lifecycle`): a receipt moves a message forward only, a late "delivered" does
not overwrite "undelivered" or the reverse, and only a "read" follows a final status.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.adapters import metrics
from relay.messages.lifecycle import (
    REPORTED_BY_RECEIPTS,
    MessageStatus,
    Move,
    set_status,
    sources,
)
from relay.messages.viber import FALLBACK_STATUSES, create_fallback
from relay.providers.base import Receipt
from relay.storage.models import Message

log = logging.getLogger("relay.receipts")

RECEIPT_STATUSES = REPORTED_BY_RECEIPTS


def find_message(session: Session, provider: str, receipt: Receipt) -> Message | None:
    """Locate a receipt's message by our id (client reference) or the gateway's id."""
    if receipt.message_id:
        msg = session.get(Message, receipt.message_id)
        if msg is not None:
            return msg
    if receipt.provider_message_id:
        return session.scalar(
            select(Message).where(
                Message.provider == provider,
                Message.provider_message_id == receipt.provider_message_id,
            )
        )
    return None


def _receipt_status(value: str) -> MessageStatus:
    if value not in RECEIPT_STATUSES:
        raise ValueError(f"receipt status must be one of {RECEIPT_STATUSES}, got {value!r}")
    return MessageStatus(value)


def apply_receipt(session: Session, provider: str, receipt: Receipt, now: datetime) -> str:
    """Apply one receipt; returns "applied", "duplicate", "stale" or "unknown_message"."""
    to = _receipt_status(receipt.status)
    msg = find_message(session, provider, receipt)
    if msg is None:
        log.info(
            "receipt for unknown message",
            extra={
                "provider": provider,
                "message_id": receipt.message_id,
                "ref": receipt.provider_message_id,
            },
        )
        return "unknown_message"
    if msg.status == to:
        return "duplicate"
    if msg.status not in sources(to):
        return "stale"
    values: dict[str, object] = {"updated_at": now}
    if receipt.cost is not None:
        values["cost"] = receipt.cost
    if receipt.provider_message_id and not msg.provider_message_id:
        values["provider_message_id"] = receipt.provider_message_id
    detail = f"receipt from {provider}" + (f": {receipt.error_code}" if receipt.error_code else "")
    # Conditional on the status still being one the receipt may move on from: gateways send
    # reports concurrently (Kannel's 8 "sent" and 1 "delivered" race), and the read above may
    # already be stale. The decision's reason stays; the receipt's detail goes to the history.
    # the history says when the gateway saw it; `updated_at` when the relay learnt it
    moved = set_status(session, [Move(msg, to, None, detail, values)], receipt.at or now)
    if not moved:
        return "stale"
    if to in FALLBACK_STATUSES:
        create_fallback(session, msg, now)
    metrics.receipt_applied(provider, "applied", msg.attempt_started_at, now)
    return "applied"
