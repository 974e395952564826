"""Templates and flows (scope admin): checked when saved, versioned, previewed.

Writes go through relay.content.template_admin / flow_admin, which invalidate the intake's
per-tenant cache so the next event already uses the new version.
"""

from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from relay.api.admin_core_common import (
    PageQuerySchema,
    bp,
    commit,
    decode_cursor,
    encode_cursor,
    keyset_page,
    load_body,
    load_query,
    record,
    tenant_scope,
)
from relay.api.admin_core_content_schemas import (
    FlowBodySchema,
    FlowCreateSchema,
    FlowPageSchema,
    FlowSchema,
    PreviewBodySchema,
    PreviewSchema,
    TemplateBodySchema,
    TemplateCreateSchema,
    TemplatePageSchema,
    TemplateQuerySchema,
    TemplateSchema,
)
from relay.api.common import db
from relay.api.public import tenant_phone
from relay.api.spec import documented
from relay.content import flow_admin, template_admin
from relay.intake.flows import latest_templates
from relay.storage.models import Flow, Template
from relay.tenancy.tenant_admin import get_tenant

CONTENT = ("templates and flows",)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)


@bp.get("/templates")
@documented(
    "Templates (newest version of each), by name",
    tags=CONTENT,
    query=PageQuerySchema,
    response=TemplatePageSchema,
)
@tenant_scope("admin")
def list_templates():  # type: ignore[no-untyped-def]
    """GET /v1/templates."""
    page = load_query(PageQuerySchema())
    stmt = select(Template.name).where(Template.tenant_id == g.tenant.id).distinct()
    if page.get("cursor"):
        stmt = stmt.where(Template.name > decode_cursor(page["cursor"], str))
    names = list(db().scalars(stmt.order_by(Template.name).limit(page["limit"] + 1)))
    more = len(names) > page["limit"]
    names = names[: page["limit"]]
    found = latest_templates(db(), g.tenant.id, set(names))
    return jsonify(
        {
            "items": [template_admin.template_view(found[n]) for n in names],
            "next_cursor": encode_cursor(names[-1]) if more else None,
        }
    )


@bp.post("/templates")
@documented(
    "Create a template (checked with sample data; segments and cost shown)",
    tags=CONTENT,
    body=TemplateCreateSchema,
    response=TemplateSchema,
    status=201,
    errors=WRITE_ERRORS,
)
@tenant_scope("admin")
def create_template():  # type: ignore[no-untyped-def]
    """POST /v1/templates."""
    spec = load_body(TemplateCreateSchema())
    session = db()
    tenant = get_tenant(session, g.tenant.id)
    tpl, _, estimates = template_admin.save(session, tenant, spec["name"], spec, create=True)
    view = template_admin.template_view(tpl)
    record("template.create", "template", tpl.name, tenant_id=tenant.id, after=view)
    commit()
    return jsonify({**view, "changed": True, "estimates": estimates}), 201


@bp.get("/templates/<name>")
@documented(
    "A template: newest version (or ?version=n) and the version list",
    tags=CONTENT,
    query=TemplateQuerySchema,
    response=TemplateSchema,
)
@tenant_scope("admin")
def get_template(name: str):  # type: ignore[no-untyped-def]
    """GET /v1/templates/<name>."""
    version = load_query(TemplateQuerySchema()).get("version")
    tpl = template_admin.latest(db(), g.tenant.id, name, version)
    return jsonify(
        {
            **template_admin.template_view(tpl),
            "versions": template_admin.versions(db(), g.tenant.id, name),
        }
    )


@bp.put("/templates/<name>")
@documented(
    "Save a new version of a template (unchanged content keeps the version)",
    tags=CONTENT,
    body=TemplateBodySchema,
    response=TemplateSchema,
    errors=WRITE_ERRORS,
)
@tenant_scope("admin")
def put_template(name: str):  # type: ignore[no-untyped-def]
    """PUT /v1/templates/<name>."""
    session = db()
    template_admin.latest(session, g.tenant.id, name)  # 404 before looking at the body
    spec = load_body(TemplateBodySchema())
    tenant = get_tenant(session, g.tenant.id)
    tpl, previous, estimates = template_admin.save(session, tenant, name, spec, create=False)
    changed = previous is None or tpl.id != previous.id
    view = template_admin.template_view(tpl)
    if changed:
        before = template_admin.template_view(previous) if previous else None
        record("template.update", "template", name, tenant_id=tenant.id, before=before, after=view)
    commit()
    return jsonify({**view, "changed": changed, "estimates": estimates})


@bp.delete("/templates/<name>")
@documented(
    "Delete a template and its versions (refused while a flow or campaign uses it)",
    tags=CONTENT,
    response=TemplateSchema,
    errors=WRITE_ERRORS,
)
@tenant_scope("admin")
def delete_template(name: str):  # type: ignore[no-untyped-def]
    """DELETE /v1/templates/<name>."""
    session = db()
    rows = template_admin.delete_template(session, g.tenant.id, name)
    before = {
        **template_admin.template_view(rows[-1]),
        "versions": [r.version for r in rows],
    }
    record("template.delete", "template", name, tenant_id=g.tenant.id, before=before)
    commit()
    return jsonify(before)


@bp.post("/templates/<name>/preview")
@documented(
    "Render a template with sample data: text, encoding, segments, cost; sends nothing",
    tags=CONTENT,
    body=PreviewBodySchema,
    response=PreviewSchema,
)
@tenant_scope("admin")
def preview_template(name: str):  # type: ignore[no-untyped-def]
    """POST /v1/templates/<name>/preview."""
    session = db()
    template_admin.latest(session, g.tenant.id, name)  # 404 before looking at the body
    body = load_body(PreviewBodySchema())
    tpl = template_admin.latest(session, g.tenant.id, name, body.get("version"))
    phone = tenant_phone(body["phone"]) if body.get("phone") else None
    spec = template_admin.template_view(tpl)
    data = template_admin.merged_sample(body.get("data"))
    tenant = get_tenant(session, g.tenant.id)
    variants = template_admin.render_variants(tenant, spec, data, phone)
    return jsonify(
        {"name": tpl.name, "version": tpl.version, "category": tpl.category, "variants": variants}
    )


@bp.get("/flows")
@documented("Flows, by name", tags=CONTENT, query=PageQuerySchema, response=FlowPageSchema)
@tenant_scope("admin")
def list_flows():  # type: ignore[no-untyped-def]
    """GET /v1/flows."""
    page = load_query(PageQuerySchema())
    stmt = select(Flow).where(Flow.tenant_id == g.tenant.id)
    return jsonify(keyset_page(db(), stmt, Flow.name, page, flow_admin.flow_view))


@bp.post("/flows")
@documented(
    "Create a flow: trigger + conditions → template, category, channel plan, delay",
    tags=CONTENT,
    body=FlowCreateSchema,
    response=FlowSchema,
    status=201,
    errors=WRITE_ERRORS,
)
@tenant_scope("admin")
def create_flow():  # type: ignore[no-untyped-def]
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
def get_flow(name: str):  # type: ignore[no-untyped-def]
    """GET /v1/flows/<name>."""
    return jsonify(flow_admin.flow_view(flow_admin.find_flow(db(), g.tenant.id, name)))


@bp.put("/flows/<name>")
@documented(
    "Replace a flow", tags=CONTENT, body=FlowBodySchema, response=FlowSchema, errors=WRITE_ERRORS
)
@tenant_scope("admin")
def put_flow(name: str):  # type: ignore[no-untyped-def]
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
def delete_flow(name: str):  # type: ignore[no-untyped-def]
    """DELETE /v1/flows/<name>."""
    session = db()
    before = flow_admin.delete_flow(session, g.tenant.id, name)
    record("flow.delete", "flow", name, tenant_id=g.tenant.id, before=before)
    commit()
    return jsonify(before)
