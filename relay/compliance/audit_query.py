"""Reading the audit log: filters for GET /v1/audit and the entry view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from relay.messages.messages import iso
from relay.storage.models import AuditEntry


def audit_stmt(filters: dict[str, Any], tenant_id: str | None) -> Select[AuditEntry]:
    """Entries matching `filters` (from, to, action, target_type); `tenant_id` None means
    every tenant's and the operator's own entries (operator only)."""
    stmt = select(AuditEntry)
    if tenant_id is not None:
        stmt = stmt.where(AuditEntry.tenant_id == tenant_id)
    if filters.get("from_") is not None:
        stmt = stmt.where(AuditEntry.at >= filters["from_"])
    if filters.get("to") is not None:
        stmt = stmt.where(AuditEntry.at < filters["to"])
    if filters.get("action"):
        stmt = stmt.where(AuditEntry.action == filters["action"])
    if filters.get("target_type"):
        stmt = stmt.where(AuditEntry.target_type == filters["target_type"])
    return stmt


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    """One entry: who, what, when, before and after."""
    return {
        "id": entry.id,
        "tenant_id": entry.tenant_id,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "at": iso(entry.at),
    }


def audit_page(
    session: Any, tenant_id: str, limit: int, before: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of a tenant's entries, newest first, and the id to continue before."""
    stmt = audit_stmt({}, tenant_id)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [audit_view(r) for r in rows], (rows[-1].id if more and rows else None)
