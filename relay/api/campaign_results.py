"""What mailings and flows earned, and an A/B winner (scope `admin`):
GET /v1/campaigns/<id>/results, POST /v1/campaigns/<id>/winner, GET /v1/reports/flows
(docs/architecture.md, 'Growth')."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import (
    PageQuerySchema,
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
from relay.api.schemas.campaigns import CampaignOut, FlowResultsOut, ResultsOut, WinnerIn
from relay.api.spec import documented
from relay.campaigns.audience import count_book
from relay.campaigns.campaigns import campaign_dict, get_campaign, tenant_zone
from relay.campaigns.runs import launch
from relay.campaigns.winner import choose_winner
from relay.growth.results import campaign_results, flow_results
from relay.storage.models import Tenant

bp = blueprint("campaign_results", __name__)
TAGS = ("campaigns",)


@bp.get("/campaigns/<int:campaign_id>/results")
@documented(
    "Sent, delivered, clicks, orders, revenue and cost, per A/B variant with intervals",
    tags=TAGS,
    response=ResultsOut,
)
@tenant_scope("admin")
def results(campaign_id: int) -> ResponseReturnValue:
    """Figures of the whole mailing and of each variant (rates with Wilson 95 % intervals)."""
    c = get_campaign(db(), g.tenant.id, campaign_id)
    return jsonify(campaign_results(db(), c))


@bp.post("/campaigns/<int:campaign_id>/winner")
@documented(
    "Send the chosen variant to the rest of the book",
    tags=TAGS,
    body=WinnerIn,
    example={"template": "promo"},
    response=CampaignOut,
    status=(200, 202),
    errors=(409,),
)
@tenant_scope("admin")
def winner(campaign_id: int) -> ResponseReturnValue:
    """200 when the rest is planned at once, 202 while a worker plans it."""
    rt, session = runtime(), db()
    tenant = session.get_one(Tenant, g.tenant.id)
    c = get_campaign(session, tenant.id, campaign_id)
    body = load_body(WinnerIn())
    choose_winner(session, tenant, c, body["template"], actor(), rt.now())
    session.commit()
    inline = launch(rt, c.id, count_book(session, c))
    session.expire_all()
    c = get_campaign(session, tenant.id, campaign_id)
    return jsonify(campaign_dict(c, tenant_zone(tenant))), 200 if inline else 202


@bp.get("/reports/flows")
@documented(
    "Each flow's sent, delivered, orders, carts recovered, revenue and cost",
    tags=("reports",),
    query=PageQuerySchema,
    page=FlowResultsOut,
)
@tenant_scope("messages:read")
def flows() -> ResponseReturnValue:
    """Flows by id; orders credited after delivery (flow texts are not link-tracked)."""
    page = load_query(PageQuerySchema())
    items, last = flow_results(db(), g.tenant.id, decode_cursor(page["cursor"], int), page["limit"])
    return page_answer(items, last)
