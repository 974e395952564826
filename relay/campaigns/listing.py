"""The tenant's campaigns page by page, newest first (what GET /v1/campaigns lists), for
callers that may not query the storage themselves (the cabinet)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.storage.models import Campaign, Template


def campaign_page(
    session: Session,
    tenant_id: str,
    cursor: int | None = None,
    limit: int = 20,
    kinds: Iterable[str] | None = None,
    status: str | None = None,
) -> tuple[list[Campaign], int | None]:
    """(campaigns newest first, the cursor of the next page or None)."""
    stmt = select(Campaign).where(Campaign.tenant_id == tenant_id)
    if cursor is not None:
        stmt = stmt.where(Campaign.id < cursor)
    if kinds is not None:
        stmt = stmt.where(Campaign.kind.in_(list(kinds)))
    if status:
        stmt = stmt.where(Campaign.status == status)
    rows = list(session.scalars(stmt.order_by(Campaign.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def delete_draft(session: Session, c: Campaign) -> None:
    """Remove a draft campaign (the caller checked its state and audits)."""
    session.delete(c)


def template_names(session: Session, tenant_id: str) -> list[str]:
    """The names of the tenant's templates (each once, whatever its versions), sorted."""
    stmt = select(Template.name).where(Template.tenant_id == tenant_id).distinct()
    return sorted(session.scalars(stmt))
