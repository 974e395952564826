"""Sender names: a tenant key (scope `admin`) requests its own; the operator token sees every
tenant's (filter with `tenant_id`) and alone activates or rejects a name."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from relay.api.http import (
    bad_body,
    blueprint,
    commit,
    db,
    fail,
    is_operator,
    keyset_page,
    load_body,
    load_query,
    operator_or_scope,
    record,
)
from relay.api.schemas.senders import (
    SenderCreateSchema,
    SenderPatchSchema,
    SenderQuerySchema,
    SenderSchema,
)
from relay.api.spec import documented
from relay.storage.models import SenderName
from relay.tenancy.sender_admin import create_sender, find_sender, sender_view, set_state
from relay.tenancy.tenant_admin import get_tenant

bp = blueprint("senders", __name__)
ACCOUNT = ("account",)


@bp.get("/senders")
@documented(
    "Sender names (operator: every tenant, filter with tenant_id)",
    tags=ACCOUNT,
    query=SenderQuerySchema,
    page=SenderSchema,
)
@operator_or_scope("admin")
def list_senders() -> Response:
    """GET /v1/senders."""
    query = load_query(SenderQuerySchema())
    stmt = select(SenderName)
    tenant_id = query.get("tenant_id") if is_operator() else g.tenant.id
    if tenant_id:
        stmt = stmt.where(SenderName.tenant_id == tenant_id)
    for key in ("channel", "state"):
        if query.get(key):
            stmt = stmt.where(getattr(SenderName, key) == query[key])
    return keyset_page(db(), stmt, SenderName.id, query, sender_view, kind=int)


@bp.post("/senders")
@documented(
    "Request a sender name (the operator may create it active)",
    tags=ACCOUNT,
    body=SenderCreateSchema,
    example={"channel": "sms", "name": "SHOP.BY"},
    response=SenderSchema,
    status=201,
    errors=(404, 409),
)
@operator_or_scope("admin")
def request_sender() -> ResponseReturnValue:
    """POST /v1/senders."""
    spec = load_body(SenderCreateSchema())
    session = db()
    if is_operator():
        if not spec.get("tenant_id"):
            bad_body("tenant_id is required", {"tenant_id": ["required for the operator"]})
        tenant_id = get_tenant(session, spec["tenant_id"]).id
        state = spec.get("state", "requested")
    else:
        if spec.get("tenant_id") not in (None, g.tenant.id) or spec.get("state") not in (
            None,
            "requested",
        ):
            fail(
                "operator_required",
                "a tenant may only request its own names",
                403,
                {"state": ["requested"]},
            )
        tenant_id, state = g.tenant.id, "requested"
    row = create_sender(session, tenant_id, spec["channel"], spec["name"], state)
    view = sender_view(row)
    record("sender.create", "sender_name", row.id, tenant_id=tenant_id, after=view)
    commit()
    return jsonify(view), 201


@bp.patch("/senders/<int:sender_id>")
@documented(
    "Change a sender name's state (active/rejected: operator only)",
    tags=ACCOUNT,
    body=SenderPatchSchema,
    example={"state": "active"},
    response=SenderSchema,
)
@operator_or_scope("admin")
def patch_sender(sender_id: int) -> Response:
    """PATCH /v1/senders/<id>."""
    session = db()
    row = find_sender(session, sender_id, None if is_operator() else g.tenant.id)
    state = load_body(SenderPatchSchema())["state"]
    before = sender_view(row)
    set_state(session, row, state, operator=is_operator())
    after = sender_view(row)
    record(
        "sender.state", "sender_name", row.id, tenant_id=row.tenant_id, before=before, after=after
    )
    commit()
    return jsonify(after)
