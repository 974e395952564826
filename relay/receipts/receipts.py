"""Applying delivery receipts: idempotent, order-tolerant, never moving a message backwards."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from relay.messages.states import record_history
from relay.messages.viber import FALLBACK_STATUSES, create_fallback
from relay.providers.base import Receipt
from relay.storage.models import Message

log = logging.getLogger("relay.receipts")

# How far along a message is; a receipt may only move it forward. Final failures rank with
# `delivered` so a late "delivered" does not overwrite "undelivered" or the reverse.
RANK = {
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "unknown": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "expired": 4,
    "read": 5,
}
RECEIPT_STATUSES = ("sent", "delivered", "read", "undelivered", "failed", "expired")


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


def apply_receipt(session: Session, provider: str, receipt: Receipt, now: datetime) -> str:
    """Apply one receipt; returns "applied", "duplicate", "stale" or "unknown_message"."""
    if receipt.status not in RECEIPT_STATUSES:
        raise ValueError(
            f"receipt status must be one of {RECEIPT_STATUSES}, got {receipt.status!r}"
        )
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
    if msg.status == receipt.status:
        return "duplicate"
    if msg.status in ("blocked", "cancelled"):
        return "stale"
    if RANK.get(receipt.status, 0) <= RANK.get(msg.status, 0):
        return "stale"
    fields: dict[str, object] = {}
    if receipt.cost is not None:
        fields["cost"] = receipt.cost
    if receipt.provider_message_id and not msg.provider_message_id:
        fields["provider_message_id"] = receipt.provider_message_id
    detail = f"receipt from {provider}" + (f": {receipt.error_code}" if receipt.error_code else "")
    at = receipt.at or now
    # Conditional on the status still being behind: gateways send reports concurrently (Kannel's
    # 8 "sent" and 1 "delivered" race), and the read above may already be stale. The decision's
    # reason stays; the receipt's detail goes to the history.
    behind = [status for status, rank in RANK.items() if rank < RANK[receipt.status]]
    moved = session.execute(
        update(Message)
        .where(Message.id == msg.id, Message.status.in_(behind))
        .values(status=receipt.status, updated_at=now, **fields)
    ).rowcount
    if not moved:
        return "stale"
    record_history(session, [(msg.id, receipt.status, None, detail)], at)
    msg.status = receipt.status
    if receipt.status in FALLBACK_STATUSES:
        create_fallback(session, msg, now)
    return "applied"


def apply_immediate_receipts(
    session: Session, provider: str, by_status: dict[str, list[Message]], now: datetime
) -> None:
    """Final statuses a gateway reported with the send itself (the sandbox): in bulk."""
    for status, msgs in by_status.items():
        if status not in RECEIPT_STATUSES:
            raise ValueError(f"receipt status must be one of {RECEIPT_STATUSES}, got {status!r}")
        ids = [m.id for m in msgs]
        moved = session.scalars(
            update(Message)
            .where(Message.id.in_(ids), Message.status == "sent")
            .values(status=status, updated_at=now)
            .returning(Message.id)
        ).all()
        record_history(session, [(i, status, None, f"receipt from {provider}") for i in moved], now)
        if status in FALLBACK_STATUSES:
            moved_set = set(moved)
            for msg in msgs:
                if msg.id in moved_set:
                    msg.status = status
                    create_fallback(session, msg, now)
