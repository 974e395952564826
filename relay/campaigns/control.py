"""Launching and steering campaigns: start, pause, resume, cancel, the test send, progress.

Every state change is one transaction with its audit entry; planning happens after the commit
(inline for small books, in a worker for large ones — see `campaign_runs.launch`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relay.campaigns.audience import count_book, iter_audience_pages
from relay.campaigns.campaigns import (
    audit_view,
    bad,
    normalise_phone,
    require_status,
    tenant_zone,
)
from relay.campaigns.pause import PAUSED_UNTIL, cancel_messages, pause_messages, resume_base
from relay.campaigns.planner import PlanContext, plan_chunk, prepare, rendered
from relay.campaigns.runs import begin_run, launch
from relay.campaigns.schedule import MISSED_RUN_GRACE, first_run, next_run_after
from relay.compliance.audit import audit
from relay.content.templates import TemplateRenderError, render
from relay.decisions.decide_batch import Planned, decide_for
from relay.errors import RelayError
from relay.messages.lifecycle import MessageStatus, NewMessage, set_status
from relay.messages.messages import apply_segments, iso, message_summary
from relay.policy import PolicyMessage, text_to_send
from relay.runtime import Runtime
from relay.storage.dml import affected_rows
from relay.storage.models import Campaign, Message, Tenant
from relay.storage.types import new_id


def start(
    rt: Runtime, session: Session, tenant: Tenant, c: Campaign, actor: str, now: datetime
) -> bool:
    """Launch a draft; refuses (422 `no_consented_recipients`) when nobody may receive it.

    A one-off campaign (and a recurring one whose first run is due) is planned at once; a
    later first run waits for `run_due_campaigns`. Returns True when planned inline.
    """
    require_status(c, ("draft",), "only a draft campaign can be started")
    zone = tenant_zone(tenant)
    first = first_run(c, zone, now)
    ctx = prepare(session, c, tenant, iso(first))
    verdict = admission(session, ctx, max(first, now), now)
    if not verdict["recipients"]:
        raise RelayError("no_recipients", "the campaign's book or segment has no contacts", 422)
    if not verdict["sendable"]:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(verdict["blocked"].items()))
        raise RelayError(
            "no_consented_recipients",
            f"none of the {verdict['recipients']} recipients may receive this campaign ({counts})",
            422,
            {"recipients": verdict["recipients"], "blocked": verdict["blocked"]},
        )
    before = audit_view(c)
    run_now = (c.kind == "campaign" and c.recurrence == "once") or first <= now
    c.status, c.updated_at = "running", now
    if run_now:
        c.progress = begin_run(c.progress, first, max(first, now))
        c.next_run_at = next_run_after(c, zone, max(first, now))
    else:
        c.progress = {"phase": "waiting", "runs": 0, "skipped_runs": 0}
        c.next_run_at = first
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="campaign.start",
        target_type="campaign",
        target_id=c.id,
        before=before,
        after=audit_view(c),
        at=now,
    )
    session.commit()
    return launch(rt, c.id, count_book(session, c)) if run_now else False


def pause(session: Session, tenant: Tenant, c: Campaign, actor: str, now: datetime) -> None:
    """Stop sending: unsent messages are parked until resumed."""
    require_status(c, ("running",), "only a running campaign can be paused")
    before = audit_view(c)
    if not pause_messages(session, c, now):
        raise RelayError("invalid_campaign_state", "the campaign is no longer running", 409)
    _audit_status(session, tenant, c, actor, "campaign.pause", before, "paused", now)
    session.commit()


def resume(
    rt: Runtime, session: Session, tenant: Tenant, c: Campaign, actor: str, now: datetime
) -> bool:
    """Send again: parked messages are paced anew from the scheduled start if it is still
    ahead, else from now (see `campaign_pause`)."""
    require_status(c, ("paused",), "only a paused campaign can be resumed")
    before = audit_view(c)
    progress = dict(c.progress or {})
    progress.update(repace=True, base=iso(resume_base(progress, now)), accepted=0)
    next_run = c.next_run_at
    if next_run is not None and next_run < now - MISSED_RUN_GRACE:
        next_run = next_run_after(c, tenant_zone(tenant), now)  # runs missed while paused
    done = affected_rows(
        session,
        update(Campaign)
        .where(Campaign.id == c.id, Campaign.status == "paused")
        .values(status="running", progress=progress, next_run_at=next_run, updated_at=now),
    )
    if not done:
        raise RelayError("invalid_campaign_state", "the campaign is no longer paused", 409)
    _audit_status(session, tenant, c, actor, "campaign.resume", before, "running", now)
    parked = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.campaign_id == c.id, Message.not_before >= PAUSED_UNTIL)
    )
    unplanned = 0
    if progress.get("phase") == "planning":  # paused mid-launch: the rest is planned too
        unplanned = max(0, count_book(session, c) - int(progress.get("planned", 0)))
    session.commit()
    session.refresh(c)
    return launch(rt, c.id, int(parked or 0) + unplanned)


def cancel(session: Session, tenant: Tenant, c: Campaign, actor: str, now: datetime) -> None:
    """Stop for good: unsent messages become `cancelled`, no further runs."""
    require_status(c, ("running", "paused"), "only a running or paused campaign can be cancelled")
    before = audit_view(c)
    if not cancel_messages(session, c, now):
        raise RelayError("invalid_campaign_state", "the campaign is already over", 409)
    _audit_status(session, tenant, c, actor, "campaign.cancel", before, "cancelled", now)
    session.commit()


def _audit_status(
    session: Session,
    tenant: Tenant,
    c: Campaign,
    actor: str,
    action: str,
    before: dict[str, Any],
    status: str,
    now: datetime,
) -> None:
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action=action,
        target_type="campaign",
        target_id=c.id,
        before={"status": before["status"]},
        after={"status": status},
        at=now,
    )


def send_test(
    session: Session,
    tenant: Tenant,
    c: Campaign,
    body: dict[str, Any],
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The campaign's message, rendered for a sample contact, to the tenant's own number.

    It goes through the policy like any message, in the campaign's own category (a marketing
    campaign's test is marketing: it needs the test number's consent, like any recipient's),
    and is not counted in the campaign's progress.
    """
    require_status(c, ("draft", "running", "paused"), "a finished campaign has nothing to test")
    phone = normalise_phone(tenant, body.get("phone") or c.test_phone, "phone")
    if phone is None:
        raise bad("test_phone_required", "phone", "set the campaign's test_phone or send 'phone'")
    ctx = prepare(session, c, tenant, iso(now))
    data = body.get("data")
    if data is not None:
        if not isinstance(data, dict):
            raise bad("invalid_body", "data", "an object of sample values")
        text, fallback, error = _render_sample(ctx, data)
    else:
        sample = next(
            (page[0] for page, _ in iter_audience_pages(session, c, chunk=50) if page), None
        )
        if sample is None:
            text, fallback, error = _render_sample(ctx, {"contact": {"name": None}})
        else:
            text, fallback, error = rendered(ctx, sample)
    if error:
        raise RelayError("template_error", error, 422, {"template": [error]})
    # the footer a real recipient would get, so the test shows the text as it will go out
    text = text_to_send(PolicyMessage(phone, c.category, ctx.channel, text, ctx.sender), ctx.policy)
    [outcome] = decide_for(
        session,
        tenant,
        [Planned(phone=phone, category=c.category, channel=ctx.channel, text=text,
                 sender=ctx.sender)],
        now,
        policy=ctx.policy,
    )  # fmt: skip
    msg = Message(
        id=new_id(),
        tenant_id=tenant.id,
        template_id=ctx.template.id,
        phone=phone,
        channel=ctx.channel,
        category=c.category,
        sender=ctx.sender,
        text=outcome.text,
        viber=ctx.template.viber if ctx.channel == "viber" else None,
        fallback_text=fallback,
        urgent=False,
        timezones=list(outcome.timezones),
        not_before=outcome.not_before if outcome.status is MessageStatus.SCHEDULED else None,
        attempts=0,
        segments=0,
        context={"campaign": {"id": c.id, "test": True}},
        created_at=now,
        updated_at=now,
    )
    apply_segments(msg, (tenant.settings or {}).get("tariffs"))
    # goes on the queue once the caller commits
    set_status(session, [NewMessage(msg, outcome.status, outcome.reason, outcome.detail)], now)
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="campaign.test",
        target_type="campaign",
        target_id=c.id,
        after={"message_id": msg.id, "status": msg.status},
        at=now,
    )
    return {**message_summary(msg), "phone": phone, "text": msg.text, "segments": msg.segments}


def _render_sample(ctx: Any, data: dict[str, Any]) -> tuple[str, str | None, str | None]:
    tpl = ctx.template
    source = (tpl.viber_text or tpl.sms_text) if ctx.channel == "viber" else tpl.sms_text
    try:
        text = render(source or "", data)
        fallback = render(tpl.sms_text, data) if ctx.fallback else None
    except TemplateRenderError as exc:
        return "", None, str(exc)
    return text, fallback, None if text else "the template renders to an empty text"


def admission(session: Session, ctx: PlanContext, at: datetime, now: datetime) -> dict[str, Any]:
    """Is anyone in the audience (birthday condition aside) allowed to receive the campaign?

    Stops at the first sendable recipient, so a normal launch pays for one chunk; only a
    campaign nobody may receive is decided in full, for the counts by reason it reports.
    """
    seen = 0
    blocked: Counter[str | None] = Counter()
    # small pages: a normal launch finds a sendable recipient in the first one
    for page, _last in iter_audience_pages(session, ctx.campaign, chunk=200):
        result = plan_chunk(session, ctx, page, at, 0, now)
        for new in result.messages:
            seen += 1
            if new.status is not MessageStatus.BLOCKED:
                return {"recipients": seen, "sendable": True}
            blocked[new.reason] += 1
    return {"recipients": seen, "sendable": False, "blocked": dict(blocked)}
