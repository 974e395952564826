"""Storing inbound messages from any gateway: one normalised, deduplicated record each."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relay.messages.messages import iso
from relay.providers.base import Inbound, Receipt
from relay.receipts.receipts import apply_receipt
from relay.storage.models import InboundMessage
from relay.storage.unit_of_work import outbox_of

log = logging.getLogger("relay.inbound")


def dedupe_key(item: Inbound) -> str:
    """The gateway's own id when it gives one, else a hash of what identifies the message."""
    if item.provider_ref:
        return item.provider_ref[:64]
    basis = [item.sender, item.recipient, item.text, str(item.received_at)]
    return hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode()).hexdigest()


def store_inbound(
    session: Session, provider: str, items: Sequence[Inbound], now: datetime
) -> list[InboundMessage]:
    """Store each inbound message once (gateways retry); returns the rows newly stored."""
    stored = []
    for item in items:
        row = InboundMessage(
            provider=provider,
            dedupe_key=dedupe_key(item),
            sender=item.sender[:32],
            recipient=item.recipient[:32],
            text=item.text,
            kind="call" if item.text.strip() == "[CALL]" else "text",
            raw=dict(item.raw),
            received_at=item.received_at or now,
        )
        try:
            with session.begin_nested():
                session.add(row)
            stored.append(row)
            # handled by a job once committed
            outbox_of(session).inbound_stored([row.id])
        except IntegrityError:
            log.info("duplicate inbound", extra={"provider": provider})
    return stored


def gateway_hooks(rt: Any, provider_name: str) -> dict[str, Callable[[list[Any]], None]]:
    """Hooks for gateways that push receipts and inbound messages on their own connection
    (SMPP): each call writes in its own transaction; an exception makes the gateway resend."""

    def on_receipts(receipts: list[Receipt]) -> None:
        with rt.session() as session:
            now = rt.now()
            for receipt in receipts:
                apply_receipt(session, provider_name, receipt, now)
            session.commit()

    def on_inbound(items: list[Inbound]) -> None:
        with rt.session() as session:
            store_inbound(session, provider_name, items, rt.now())
            session.commit()

    return {"on_receipts": on_receipts, "on_inbound": on_inbound}


def inbound_view(row: InboundMessage) -> dict[str, Any]:
    """One inbound message as GET /v1/inbound shows it."""
    return {
        "id": row.id,
        "from": row.sender,
        "to": row.recipient,
        "text": row.text,
        "kind": row.kind,
        "provider": row.provider,
        "routing": row.routing,
        "handled_as": row.handled_as,
        "message_id": row.message_id,
        "detail": row.detail,
        "received_at": iso(row.received_at),
    }


def tenant_inbound_stmt(tenant_id: str, unrouted_only: bool = False) -> Any:
    """The tenant's inbound messages (with `unrouted_only`, those the relay could not tie to
    one of the tenant's messages)."""
    stmt = select(InboundMessage).where(InboundMessage.tenant_id == tenant_id)
    if unrouted_only:
        stmt = stmt.where(InboundMessage.message_id.is_(None))
    return stmt


def inbound_page(
    session: Session,
    tenant_id: str,
    limit: int,
    before: int | None,
    unrouted_only: bool = False,
    kind: str | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page, newest first, and the id to continue before (None at the end); `kind`
    keeps only texts ("text") or calls to the store's numbers ("call")."""
    stmt = tenant_inbound_stmt(tenant_id, unrouted_only)
    if kind is not None:
        stmt = stmt.where(InboundMessage.kind == kind)
    if before is not None:
        stmt = stmt.where(InboundMessage.id < before)
    rows = list(session.scalars(stmt.order_by(InboundMessage.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [inbound_view(r) for r in rows], (rows[-1].id if more and rows else None)
