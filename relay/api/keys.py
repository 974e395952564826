"""A tenant's own API keys (scope `admin`): list, create (shown once), revoke."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import (
    PageQuerySchema,
    blueprint,
    commit,
    db,
    keyset_page,
    load_body,
    load_query,
    record,
    runtime,
    tenant_scope,
)
from relay.api.schemas.keys import KeyCreatedSchema, KeyCreateSchema, KeySchema
from relay.api.spec import documented
from relay.storage.models import ApiKey, Tenant
from relay.tenancy.tenant_admin import find_key, get_tenant, key_view, list_keys_stmt
from relay.tenancy.tenants import create_key, revoke_key

bp = blueprint("keys", __name__)
ACCOUNT = ("account",)


def _tenant() -> Tenant:
    """The caller's tenant, loaded in this request's session (g.tenant is a cached copy)."""
    return get_tenant(db(), g.tenant.id)


@bp.get("/keys")
@documented("This tenant's keys (prefix only)", tags=ACCOUNT, query=PageQuerySchema, page=KeySchema)
@tenant_scope("admin")
def list_keys() -> Response:
    """GET /v1/keys."""
    page = load_query(PageQuerySchema())
    return keyset_page(db(), list_keys_stmt(g.tenant.id), ApiKey.id, page, key_view)


@bp.post("/keys")
@documented(
    "Create a key (shown once)",
    tags=ACCOUNT,
    body=KeyCreateSchema,
    example={"scopes": ["events:write"], "name": "woocommerce"},
    response=KeyCreatedSchema,
    status=201,
)
@tenant_scope("admin")
def create_own_key() -> ResponseReturnValue:
    """POST /v1/keys."""
    spec = load_body(KeyCreateSchema())
    session = db()
    row, key = create_key(session, _tenant(), spec["scopes"], spec.get("name"))
    view = key_view(row)
    record("key.create", "api_key", row.id, tenant_id=g.tenant.id, after=view)
    commit()
    return jsonify({**view, "key": key}), 201


@bp.delete("/keys/<key_id>")
@documented("Revoke a key", tags=ACCOUNT, response=KeySchema)
@tenant_scope("admin")
def revoke_own_key(key_id: str) -> Response:
    """DELETE /v1/keys/<id>: the key stops working at once here, within 5 s elsewhere."""
    session = db()
    before = key_view(find_key(session, g.tenant.id, key_id))
    row = revoke_key(session, _tenant(), key_id, runtime().now())
    after = key_view(row)
    if before != after:
        record("key.revoke", "api_key", row.id, tenant_id=g.tenant.id, before=before, after=after)
    commit()
    return jsonify(after)
