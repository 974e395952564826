"""Flows (scope `admin`): trigger + conditions → template, category, channel plan, delay.

Writes go through relay.content.flow_admin, which invalidates the intake's per-tenant cache
so the next event already uses the new flow.
"""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from relay.api.http import (
    PageQuerySchema,
    blueprint,
    commit,
    db,
    keyset_page,
    load_body,
    load_query,
    record,
    tenant_scope,
)
from relay.api.schemas.flows import FlowBodySchema, FlowCreateSchema, FlowSchema
from relay.api.spec import documented
from relay.content import flow_admin
from relay.storage.models import Flow
from relay.tenancy.tenant_admin import get_tenant

bp = blueprint("flows", __name__)
CONTENT = ("templates and flows",)


@bp.get("/flows")
@documented("Flows, by name", tags=CONTENT, query=PageQuerySchema, page=FlowSchema)
@tenant_scope("admin")
def list_flows() -> Response:
    """GET /v1/flows."""
    page = load_query(PageQuerySchema())
    stmt = select(Flow).where(Flow.tenant_id == g.tenant.id)
    return keyset_page(db(), stmt, Flow.name, page, flow_admin.flow_view)


@bp.post("/flows")
@documented(
    "Create a flow: trigger + conditions → template, category, channel plan, delay",
    tags=CONTENT,
    body=FlowCreateSchema,
    example={
        "name": "order-shipped",
        "trigger": "order.status_changed",
        "conditions": {"order.status": ["shipped", "delivering"]},
        "template": "order_completed",
        "category": "transactional",
        "channels": ["viber", "sms"],
    },
    response=FlowSchema,
    status=201,
    errors=(409,),
)
@tenant_scope("admin")
def create_flow() -> ResponseReturnValue:
    """POST /v1/flows."""
    spec = load_body(FlowCreateSchema())
    session = db()
    tenant = get_tenant(session, g.tenant.id)
    flow, _ = flow_admin.save(session, tenant, spec["name"], spec, create=True)
    view = flow_admin.flow_view(flow)
    record("flow.create", "flow", flow.name, tenant_id=tenant.id, after=view)
    commit()
    return jsonify(view), 201


@bp.get("/flows/<name>")
@documented("A flow", tags=CONTENT, response=FlowSchema)
@tenant_scope("admin")
def get_flow(name: str) -> Response:
    """GET /v1/flows/<name>."""
    return jsonify(flow_admin.flow_view(flow_admin.find_flow(db(), g.tenant.id, name)))


@bp.put("/flows/<name>")
@documented(
    "Replace a flow",
    tags=CONTENT,
    body=FlowBodySchema,
    example={
        "trigger": "order.status_changed",
        "conditions": {"order.status": "processing"},
        "template": "order_processing",
        "category": "transactional",
        "channels": ["sms"],
    },
    response=FlowSchema,
)
@tenant_scope("admin")
def put_flow(name: str) -> Response:
    """PUT /v1/flows/<name>."""
    session = db()
    flow_admin.find_flow(session, g.tenant.id, name)  # 404 before looking at the body
    spec = load_body(FlowBodySchema())
    tenant = get_tenant(session, g.tenant.id)
    flow, before = flow_admin.save(session, tenant, name, spec, create=False)
    view = flow_admin.flow_view(flow)
    if before != view:
        record("flow.update", "flow", name, tenant_id=tenant.id, before=before, after=view)
    commit()
    return jsonify(view)


@bp.delete("/flows/<name>")
@documented("Delete a flow", tags=CONTENT, response=FlowSchema)
@tenant_scope("admin")
def delete_flow(name: str) -> Response:
    """DELETE /v1/flows/<name>."""
    session = db()
    before = flow_admin.delete_flow(session, g.tenant.id, name)
    record("flow.delete", "flow", name, tenant_id=g.tenant.id, before=before)
    commit()
    return jsonify(before)
