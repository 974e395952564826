"""Sending an A/B test's winner to the rest of the book (docs/architecture.md, 'Growth').

The test run planned only the test share; the winner's run plans the other recipients (the
same reproducible split) with the chosen template, paced and decided like any run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from relay.campaigns.campaigns import audit_view, bad, require_status
from relay.campaigns.runs import begin_run
from relay.compliance.audit import audit
from relay.storage.models import Campaign, Tenant


def choose_winner(
    session: Session, tenant: Tenant, c: Campaign, template: str, actor: str, now: datetime
) -> None:
    """Record the winner and begin the run for the rest (planned by the caller after commit)."""
    if not c.variants or c.test_share is None:
        raise bad("not_an_ab_test", "template", "the campaign has no variants with a test share")
    if template not in c.variants:
        raise bad("invalid_variants", "template", f"one of {c.variants}")
    if c.winner is not None:
        raise bad("winner_chosen", "template", f"{c.winner!r} was sent to the rest already", 409)
    require_status(c, ("running", "finished"), "only a started test can have a winner")
    if (c.progress or {}).get("phase") == "planning":
        raise bad("invalid_campaign_state", "template", "the test is still being planned", 409)
    before = audit_view(c)
    c.winner, c.status, c.updated_at = template, "running", now
    c.progress = begin_run(c.progress, now, now)
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="campaign.winner",
        target_type="campaign",
        target_id=c.id,
        before=before,
        after=audit_view(c),
        at=now,
    )
