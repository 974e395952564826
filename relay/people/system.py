"""The operator's "system" tenant: the sender of the relay's own messages to people
(verification codes), through the normal send path like any tenant's message.

A code is a `message.requested` event of this tenant: intake validates it, the policy decides
it (a number that said STOP to the relay is blocked like any other), it is recorded with its
history and a worker sends it through the tenant's gateways — the sandbox until the operator
runs `relay tenants set-providers relay-system <gateway>`. The tenant's settings let
transactional messages through quiet hours: a code asked for at 23:30 is wanted at 23:30.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relay.intake.intake import submit_event
from relay.storage.models import Event, Message, Tenant
from relay.tenancy.tenants import create_tenant

SYSTEM_TENANT = "relay-system"
SYSTEM_SETTINGS: dict[str, Any] = {
    "transactional_quiet_hours": False,  # codes are wanted now, night or day
    "optout_footer": "",
}
MASK = "••••••"
_CODE_RE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def system_tenant(session: Session) -> Tenant:
    """The system tenant, created on first use (safe when two processes race)."""
    found = session.scalar(select(Tenant).where(Tenant.name == SYSTEM_TENANT))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return create_tenant(session, SYSTEM_TENANT, "RU", "UTC", dict(SYSTEM_SETTINGS))
    except IntegrityError:
        return session.scalar(select(Tenant).where(Tenant.name == SYSTEM_TENANT))  # type: ignore[return-value]


def is_system_tenant(tenant: Tenant) -> bool:
    """True for the operator's own sender."""
    return tenant.name == SYSTEM_TENANT


def send_system_text(
    session: Session, phone: str, text: str, ref: str, now: datetime
) -> dict[str, Any]:
    """Submit a transactional SMS of the system tenant; the message summary. The session's
    outbox queues it once the caller commits (relay/storage/unit_of_work.py)."""
    tenant = system_tenant(session)
    wire = {
        "event_id": f"{ref}-{secrets.token_hex(4)}",
        "type": "message.requested",
        "occurred_at": now.isoformat(),
        "customer": {"phone": phone},
        "message": {"text": text, "channel": "sms", "category": "transactional"},
    }
    result = submit_event(session, tenant, wire, now)
    summary: dict[str, Any] = result.body["messages"][0]
    return summary


def mask_codes_in_message(session: Session, message_id: str) -> None:
    """Replace 6-digit codes in a system message's text and its event's payload with a mask,
    once the code they carry is spent: the log keeps the message, not a usable code."""
    tenant = session.scalar(select(Tenant.id).where(Tenant.name == SYSTEM_TENANT))
    msg = session.scalar(
        select(Message).where(Message.id == message_id, Message.tenant_id == tenant)
    )
    if msg is None:
        return
    if _CODE_RE.search(msg.text or ""):
        session.execute(
            update(Message).where(Message.id == msg.id).values(text=_CODE_RE.sub(MASK, msg.text))
        )
    event = session.get(Event, msg.event_pk) if msg.event_pk else None
    if event is not None and isinstance(event.payload, dict):
        body = dict(event.payload)
        message = dict(body.get("message") or {})
        if _CODE_RE.search(message.get("text") or ""):
            message["text"] = _CODE_RE.sub(MASK, message["text"])
            body["message"] = message
            event.payload = body
