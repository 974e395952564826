"""The opt-out review queue: replies the recogniser (relay.policy.optout) was unsure of.

An unsure reply opens a review for the tenant and puts a hold on the number: a stop-list entry
with source `review` on all channels, which the policy reads as "no marketing" (transactional
messages still go). A person decides (`POST /v1/optout-reviews/<id>/decision`):

- an opt-out: what a STOP keyword does (a stop-list entry with source `keyword` on every
  channel, which the person's own START may lift, and a marketing-consent revocation with the
  reply as wording);
- not an opt-out: the hold is lifted and nothing else changes.

One number has at most one pending review at a time; a second unsure reply is added to it.
Every decision is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from relay.compliance.audit import audit
from relay.compliance.stoplist import add_stop, record_stop_removal
from relay.errors import RelayError
from relay.storage.models import ALL_CHANNELS, ConsentRecord, OptoutReview, StopEntry, Tenant

PENDING, OPTED_OUT, NOT_OPT_OUT = "pending", "opt_out", "not_opt_out"
STATUSES = (PENDING, OPTED_OUT, NOT_OPT_OUT)
MAX_TEXT = 2000


def review_dict(review: OptoutReview) -> dict[str, Any]:
    """A review as the API shows it."""
    return {
        "id": review.id,
        "phone": review.phone,
        "text": review.text,
        "why": review.why,
        "inbound_id": review.inbound_id,
        "status": review.status,
        "decided_by": review.decided_by,
        "decided_at": review.decided_at.isoformat() if review.decided_at else None,
        "note": review.note,
        "created_at": review.created_at.isoformat() if review.created_at else None,
    }


def open_review(
    session: Session,
    tenant_id: str,
    phone: str,
    text: str,
    why: str,
    inbound_id: int | None,
    now: datetime,
) -> OptoutReview:
    """Queue an unsure reply and hold marketing to the number until someone decides."""
    review = session.scalar(
        select(OptoutReview).where(
            OptoutReview.tenant_id == tenant_id,
            OptoutReview.phone == phone,
            OptoutReview.status == PENDING,
        )
    )
    if review is not None:  # one pending review per number: the newer reply joins it
        review.text = f"{review.text}\n---\n{text}"[-MAX_TEXT:]
    else:
        review = OptoutReview(
            tenant_id=tenant_id,
            phone=phone,
            text=text[:MAX_TEXT],
            why=why,
            inbound_id=inbound_id,
            status=PENDING,
            created_at=now,
        )
        session.add(review)
        session.flush()
    add_stop(
        session,
        tenant_id,
        phone,
        "review",
        now,
        channel=ALL_CHANNELS,
        note=f"marketing held: opt-out review #{review.id}",
    )
    return review


def list_reviews(
    session: Session,
    tenant_id: str,
    status: str | None,
    cursor: int | None,
    limit: int,
) -> tuple[list[OptoutReview], int | None]:
    """Newest first, keyset-paginated by id."""
    stmt = select(OptoutReview).where(OptoutReview.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(OptoutReview.status == status)
    if cursor is not None:
        stmt = stmt.where(OptoutReview.id < cursor)
    rows = list(session.scalars(stmt.order_by(OptoutReview.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def get_review(session: Session, tenant_id: str, review_id: int) -> OptoutReview:
    """One of the tenant's reviews; 404 `review_not_found`."""
    review = session.get(OptoutReview, review_id)
    if review is None or review.tenant_id != tenant_id:
        raise RelayError("review_not_found", f"no opt-out review {review_id}", 404)
    return review


def _lift_hold(session: Session, tenant_id: str, phone: str, actor: str, now: datetime) -> None:
    held = list(
        session.scalars(
            select(StopEntry).where(
                StopEntry.tenant_id == tenant_id,
                StopEntry.phone == phone,
                StopEntry.source == "review",
            )
        )
    )
    if not held:
        return
    session.execute(delete(StopEntry).where(StopEntry.id.in_([e.id for e in held])))
    record_stop_removal(session, held, actor, now, "opt-out review decided")


def decide_review(
    session: Session,
    tenant: Tenant,
    review_id: int,
    opt_out: bool,
    actor: str,
    note: str | None,
    now: datetime,
) -> OptoutReview:
    """Record a person's decision; 409 `review_decided` when it was decided already."""
    review = get_review(session, tenant.id, review_id)
    if review.status != PENDING:
        raise RelayError(
            "review_decided", f"opt-out review {review_id} was decided: {review.status}", 409
        )
    before = review_dict(review)
    review.status = OPTED_OUT if opt_out else NOT_OPT_OUT
    review.decided_by = actor[:64]
    review.decided_at = now
    review.note = (note or "")[:2000] or None
    _lift_hold(session, tenant.id, review.phone, actor, now)
    if opt_out:
        add_stop(
            session,
            tenant.id,
            review.phone,
            "keyword",
            now,
            channel=ALL_CHANNELS,
            note=f"opt-out review #{review.id}: {review.text[:60]!r}",
        )
        session.add(
            ConsentRecord(
                tenant_id=tenant.id,
                phone=review.phone,
                purpose="marketing",
                channel=ALL_CHANNELS,
                granted=False,
                source="keyword",
                wording=review.text[:500],
                captured_at=review.created_at,
                recorded_at=now,
            )
        )
    session.flush()
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="optout_review.decide",
        target_type="optout_review",
        target_id=review.id,
        before=before,
        after=review_dict(review),
        at=now,
    )
    return review
