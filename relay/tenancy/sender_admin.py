"""Sender names: a tenant requests one, the operator activates or rejects it (only active
names may send, and only they may be set on a template)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.errors import RelayError
from relay.messages.messages import iso
from relay.policy import sender_name_problem
from relay.storage.models import SenderName
from relay.tenancy.tenant_cache import TENANT_CONFIG

STATES = ("requested", "active", "rejected")


def sender_view(row: SenderName) -> dict[str, Any]:
    """A sender name as the API shows it."""
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "channel": row.channel,
        "name": row.name,
        "state": row.state,
        "created_at": iso(row.created_at),
    }


def create_sender(
    session: Session, tenant_id: str, channel: str, name: str, state: str = "requested"
) -> SenderName:
    """Register a name for a channel; its syntax is the policy's (docs/architecture.md,
    'Policy')."""
    problem = sender_name_problem(channel, name)
    if problem is not None:
        raise RelayError("invalid_sender_name", problem, 422, {"name": [problem]})
    exists = session.scalar(
        select(SenderName.id).where(
            SenderName.tenant_id == tenant_id,
            SenderName.channel == channel,
            SenderName.name == name,
        )
    )
    if exists is not None:
        raise RelayError(
            "sender_exists",
            f"{name!r} is already registered for {channel}",
            409,
            {"name": ["already registered"]},
        )
    row = SenderName(tenant_id=tenant_id, channel=channel, name=name, state=state)
    session.add(row)
    session.flush()
    TENANT_CONFIG.invalidate(tenant_id)
    return row


def find_sender(session: Session, sender_id: int, tenant_id: str | None) -> SenderName:
    """A sender name by id, limited to `tenant_id` unless the operator asks (None)."""
    stmt = select(SenderName).where(SenderName.id == sender_id)
    if tenant_id is not None:
        stmt = stmt.where(SenderName.tenant_id == tenant_id)
    row = session.scalar(stmt)
    if row is None:
        raise RelayError("sender_not_found", f"no sender name {sender_id!r}", 404)
    return row


def set_state(session: Session, row: SenderName, state: str, *, operator: bool) -> None:
    """Move a name to `state`: a tenant may only (re)request; activation is the operator's."""
    if state != "requested" and not operator:
        raise RelayError(
            "operator_required",
            f"only the operator may set a sender name {state}; a tenant may request it",
            403,
            {"state": ["requested"]},
        )
    row.state = state
    session.flush()
    TENANT_CONFIG.invalidate(row.tenant_id)


def active_sender(session: Session, tenant_id: str, channel: str, name: str) -> bool:
    """True when `name` is an active sender of the tenant on `channel`."""
    return (
        session.scalar(
            select(SenderName.id).where(
                SenderName.tenant_id == tenant_id,
                SenderName.channel == channel,
                SenderName.name == name,
                SenderName.state == "active",
            )
        )
        is not None
    )


def senders_of(session: Session, tenant_id: str) -> list[SenderName]:
    """The tenant's sender names, by channel and name."""
    stmt = select(SenderName).where(SenderName.tenant_id == tenant_id)
    return list(session.scalars(stmt.order_by(SenderName.channel, SenderName.name)))
