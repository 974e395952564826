"""Campaigns (scope `admin`): drafts, test sends, start/pause/resume/cancel, progress, report.

Every route is the tenant's own: another tenant's campaign id answers 404, exactly like one
that does not exist. Each change is one transaction with its audit entry; messages go on the
queue only after the commit.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from relay.api.http import (
    actor,
    blueprint,
    db,
    decode_cursor,
    load_body,
    load_query,
    page_answer,
    runtime,
    tenant_scope,
)
from relay.api.reports import export_response
from relay.api.schemas.campaigns import (
    CampaignIn,
    CampaignOut,
    CampaignQuery,
    FormatQuery,
    MessageSummary,
    ProgressOut,
    TestSendIn,
)
from relay.api.spec import documented
from relay.campaigns import control as campaign_control
from relay.campaigns.campaigns import (
    audit_view,
    campaign_dict,
    create_campaign,
    get_campaign,
    require_status,
    tenant_zone,
    update_campaign,
)
from relay.campaigns.progress import progress
from relay.compliance.audit import audit
from relay.reporting.message_log import LogFilter
from relay.storage.models import Campaign, Tenant

bp = blueprint("campaigns", __name__)
TAGS = ("campaigns",)


def _tenant() -> Tenant:
    # the key lookup hands out a cached, detached tenant; use this request's session's copy
    return db().get_one(Tenant, g.tenant.id)


def _show(c: Campaign, tenant: Tenant) -> dict[str, Any]:
    return campaign_dict(c, tenant_zone(tenant))


@bp.post("/campaigns")
@documented(
    "Create a draft campaign",
    tags=TAGS,
    body=CampaignIn,
    example={
        "name": "Весенняя распродажа",
        "book_id": 1,
        "template": "spring_sale",
        "channels": ["viber", "sms"],
        "category": "marketing",
        "start_at": "2026-03-01 11:00",
        "pace": {"count": 500, "minutes": 10},
    },
    response=CampaignOut,
    status=201,
    errors=(404, 409),
)
@tenant_scope("admin")
def create() -> ResponseReturnValue:
    """A new draft: book or segment, template, sender, channel plan, start, recurrence, pace."""
    session, now, tenant = db(), runtime().now(), _tenant()
    data = load_body(CampaignIn())
    c = create_campaign(session, tenant, data, now)
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor(),
        action="campaign.create",
        target_type="campaign",
        target_id=c.id,
        after=audit_view(c),
        at=now,
    )
    session.commit()
    return jsonify(_show(c, tenant)), 201


@bp.get("/campaigns")
@documented("List campaigns, newest first", tags=TAGS, query=CampaignQuery, page=CampaignOut)
@tenant_scope("admin")
def list_campaigns() -> Response:
    """The tenant's campaigns, newest first; `status` narrows to one state."""
    args = load_query(CampaignQuery())
    last = decode_cursor(args["cursor"], int)
    stmt = select(Campaign).where(Campaign.tenant_id == g.tenant.id)
    if last is not None:
        stmt = stmt.where(Campaign.id < last)
    if args["status"]:
        stmt = stmt.where(Campaign.status == args["status"])
    rows = list(db().scalars(stmt.order_by(Campaign.id.desc()).limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    tenant = _tenant()
    return page_answer(rows, rows[-1].id if (more and rows) else None, lambda c: _show(c, tenant))


@bp.get("/campaigns/<int:campaign_id>")
@documented("One campaign", tags=TAGS, response=CampaignOut)
@tenant_scope("admin")
def get_one(campaign_id: int) -> Response:
    """The campaign with its settings and last progress snapshot."""
    tenant = _tenant()
    return jsonify(_show(get_campaign(db(), tenant.id, campaign_id), tenant))


@bp.patch("/campaigns/<int:campaign_id>")
@documented(
    "Change a draft campaign (any subset of the fields)",
    tags=TAGS,
    body=CampaignIn,
    example={"pace": {"count": 200, "minutes": 10}},
    response=CampaignOut,
    errors=(409,),
)
@tenant_scope("admin")
def patch(campaign_id: int) -> Response:
    """Change any field of a draft; 409 `invalid_campaign_state` once started."""
    session, now, tenant = db(), runtime().now(), _tenant()
    c = get_campaign(session, tenant.id, campaign_id)
    data = load_body(CampaignIn(), partial=True)
    before = audit_view(c)
    update_campaign(session, tenant, c, data, now)
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor(),
        action="campaign.update",
        target_type="campaign",
        target_id=c.id,
        before=before,
        after=audit_view(c),
        at=now,
    )
    session.commit()
    return jsonify(_show(c, tenant))


@bp.delete("/campaigns/<int:campaign_id>")
@documented("Delete a draft campaign", tags=TAGS, status=204, errors=(409,))
@tenant_scope("admin")
def delete(campaign_id: int) -> ResponseReturnValue:
    """Remove a draft; a started campaign is cancelled instead (its messages are history)."""
    session, now, tenant = db(), runtime().now(), _tenant()
    c = get_campaign(session, tenant.id, campaign_id)
    require_status(c, ("draft",), "only a draft campaign can be deleted; cancel it instead")
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor(),
        action="campaign.delete",
        target_type="campaign",
        target_id=c.id,
        before=audit_view(c),
        at=now,
    )
    session.delete(c)
    session.commit()
    return "", 204


@bp.post("/campaigns/<int:campaign_id>/test")
@documented(
    "Send the campaign's message to the tenant's test phone",
    tags=TAGS,
    body=TestSendIn,
    body_required=False,
    example={"phone": "+375291234567", "data": {"contact": {"name": "Анна"}}},
    response=MessageSummary,
    status=202,
    errors=(409,),
)
@tenant_scope("admin")
def test_send(campaign_id: int) -> ResponseReturnValue:
    """Render for a sample contact and send to `phone` (default: the campaign's test_phone)."""
    rt, session, tenant = runtime(), db(), _tenant()
    c = get_campaign(session, tenant.id, campaign_id)
    body = load_body(TestSendIn()) if request.get_data(cache=True) else {}
    out = campaign_control.send_test(session, tenant, c, body, actor(), rt.now())
    session.commit()
    return jsonify(out), 202


def _control(campaign_id: int, action: str) -> tuple[Response, int]:
    rt, session, tenant = runtime(), db(), _tenant()
    c = get_campaign(session, tenant.id, campaign_id)
    now = rt.now()
    status = 200
    if action == "start":
        inline = campaign_control.start(rt, session, tenant, c, actor(), now)
        status = 200 if inline else 202
    elif action == "resume":
        inline = campaign_control.resume(rt, session, tenant, c, actor(), now)
        status = 200 if inline else 202
    elif action == "pause":
        campaign_control.pause(session, tenant, c, actor(), now)
    else:
        campaign_control.cancel(session, tenant, c, actor(), now)
    session.expire_all()
    c = get_campaign(session, tenant.id, campaign_id)
    return jsonify(_show(c, tenant)), status


@bp.post("/campaigns/<int:campaign_id>/start")
@documented(
    "Start a campaign: 200 when planned at once, 202 while a worker plans it",
    tags=TAGS,
    response=CampaignOut,
    status=(200, 202),
    errors=(409, 422),
)
@tenant_scope("admin")
def start(campaign_id: int) -> ResponseReturnValue:
    """Refused with 422 `no_consented_recipients` (counts by reason) when nobody may receive
    it; small books are planned before the answer (200), large ones by a worker (202)."""
    return _control(campaign_id, "start")


@bp.post("/campaigns/<int:campaign_id>/pause")
@documented("Pause a running campaign", tags=TAGS, response=CampaignOut, errors=(409,))
@tenant_scope("admin")
def pause(campaign_id: int) -> ResponseReturnValue:
    """Unsent messages are parked (status scheduled, reason_detail 'paused')."""
    return _control(campaign_id, "pause")


@bp.post("/campaigns/<int:campaign_id>/resume")
@documented(
    "Resume a paused campaign: 200 when planned at once, 202 while a worker plans it",
    tags=TAGS,
    response=CampaignOut,
    status=(200, 202),
    errors=(409, 422),
)
@tenant_scope("admin")
def resume(campaign_id: int) -> ResponseReturnValue:
    """Parked messages are paced again from now, through the policy once more."""
    return _control(campaign_id, "resume")


@bp.post("/campaigns/<int:campaign_id>/cancel")
@documented("Cancel a campaign", tags=TAGS, response=CampaignOut, errors=(409,))
@tenant_scope("admin")
def cancel(campaign_id: int) -> ResponseReturnValue:
    """Unsent messages become cancelled; no further runs."""
    return _control(campaign_id, "cancel")


@bp.get("/campaigns/<int:campaign_id>/progress")
@documented("Campaign progress", tags=TAGS, response=ProgressOut)
@tenant_scope("admin")
def get_progress(campaign_id: int) -> Response:
    """Counts per status, planned total, sent so far, what is left and the ETA."""
    session, tenant = db(), _tenant()
    c = get_campaign(session, tenant.id, campaign_id)
    return jsonify(progress(session, tenant, c, runtime().now()))


@bp.get("/campaigns/<int:campaign_id>/report")
@documented(
    "Campaign detail report (csv or xlsx)",
    tags=TAGS,
    query=FormatQuery,
    produces="text/csv",
)
@tenant_scope("admin")
def report(campaign_id: int) -> Response:
    """Every recipient: number, name, status, reason, times, segments, cost — streamed."""
    session, tenant = db(), _tenant()
    c = get_campaign(session, tenant.id, campaign_id)
    fmt = load_query(FormatQuery())["format"]
    filters = LogFilter(tenant_id=tenant.id, campaign_id=c.id, include_archive=True)
    resp: Response = export_response(
        runtime(), filters, tenant_zone(tenant), fmt, f"campaign-{c.id}", oldest_first=True
    )
    return resp
