"""Templates (scope `admin`): checked when saved, versioned, previewed.

Writes go through relay.content.template_admin, which invalidates the intake's per-tenant
cache so the next event already uses the new version.
"""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from relay.api.http import (
    PageQuerySchema,
    actor,
    blueprint,
    commit,
    db,
    decode_cursor,
    load_body,
    load_query,
    page_answer,
    record,
    runtime,
    tenant_phone,
    tenant_scope,
)
from relay.api.schemas.templates import (
    PreviewBodySchema,
    PreviewSchema,
    TemplateBodySchema,
    TemplateCreateSchema,
    TemplateQuerySchema,
    TemplateSchema,
)
from relay.api.spec import documented
from relay.content import template_admin
from relay.intake.flows import latest_templates
from relay.messages.messages import iso
from relay.storage.models import Template
from relay.tenancy.tenant_admin import get_tenant

bp = blueprint("templates", __name__)
CONTENT = ("templates and flows",)


@bp.get("/templates")
@documented(
    "Templates (newest version of each), by name",
    tags=CONTENT,
    query=PageQuerySchema,
    page=TemplateSchema,
)
@tenant_scope("admin")
def list_templates() -> Response:
    """GET /v1/templates."""
    page = load_query(PageQuerySchema())
    last = decode_cursor(page["cursor"], str)
    stmt = select(Template.name).where(Template.tenant_id == g.tenant.id).distinct()
    if last is not None:
        stmt = stmt.where(Template.name > last)
    names = list(db().scalars(stmt.order_by(Template.name).limit(page["limit"] + 1)))
    more = len(names) > page["limit"]
    names = names[: page["limit"]]
    found = latest_templates(db(), g.tenant.id, set(names))
    return page_answer(
        names, names[-1] if more else None, lambda n: template_admin.template_view(found[n])
    )


@bp.post("/templates")
@documented(
    "Create a template (checked with sample data; segments and cost shown)",
    tags=CONTENT,
    body=TemplateCreateSchema,
    example={
        "name": "spring_sale",
        "category": "marketing",
        "sms_text": "{{ customer.name }}, -20% на всё до 8 марта: {{ cart.url }}",
    },
    response=TemplateSchema,
    status=201,
    errors=(409,),
)
@tenant_scope("admin")
def create_template() -> ResponseReturnValue:
    """POST /v1/templates."""
    spec = load_body(TemplateCreateSchema())
    session = db()
    tenant = get_tenant(session, g.tenant.id)
    tpl, _, estimates = template_admin.save(
        session, tenant, spec["name"], spec, create=True, actor=actor(), now=runtime().now()
    )
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
def get_template(name: str) -> Response:
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
    example={
        "category": "marketing",
        "sms_text": "{{ customer.name }}, -25% на всё до 8 марта: {{ cart.url }}",
    },
    response=TemplateSchema,
)
@tenant_scope("admin")
def put_template(name: str) -> Response:
    """PUT /v1/templates/<name>."""
    session = db()
    template_admin.latest(session, g.tenant.id, name)  # 404 before looking at the body
    spec = load_body(TemplateBodySchema())
    tenant = get_tenant(session, g.tenant.id)
    tpl, previous, estimates = template_admin.save(
        session, tenant, name, spec, create=False, actor=actor(), now=runtime().now()
    )
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
    errors=(409,),
)
@tenant_scope("admin")
def delete_template(name: str) -> Response:
    """DELETE /v1/templates/<name>."""
    session = db()
    rows = template_admin.delete_template(session, g.tenant.id, name)
    before = {
        **template_admin.template_view(rows[-1]),
        # the shape GET answers: one {"version", "created_at"} per version, newest first
        "versions": [
            {"version": r.version, "created_at": iso(r.created_at)}
            for r in sorted(rows, key=lambda r: r.version, reverse=True)
        ],
    }
    record("template.delete", "template", name, tenant_id=g.tenant.id, before=before)
    commit()
    return jsonify(before)


@bp.post("/templates/<name>/preview")
@documented(
    "Render a template with sample data: text, encoding, segments, cost; sends nothing",
    tags=CONTENT,
    body=PreviewBodySchema,
    example={"data": {"customer": {"name": "Ольга"}}, "phone": "+375291234567"},
    response=PreviewSchema,
)
@tenant_scope("admin")
def preview_template(name: str) -> Response:
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
