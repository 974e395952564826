"""The audit log: every admin change, who made it, and the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relay.storage.models import AuditEntry


def audit(
    session: Session,
    *,
    tenant_id: str | None,
    actor: str,
    action: str,
    target_type: str,
    target_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime,
) -> None:
    """Record one admin change in the caller's transaction (so it commits with the change)."""
    session.add(
        AuditEntry(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            before=before,
            after=after,
            at=at,
        )
    )
