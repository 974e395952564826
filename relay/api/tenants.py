"""Tenants (the operator, RELAY_ADMIN_TOKEN): create, list, change, their keys and their
ordered gateway list. Every change writes an audit entry in the same transaction."""

from __future__ import annotations

from flask import Response, jsonify
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
    operator_only,
    record,
)
from relay.api.schemas.keys import KeyCreatedSchema, KeyCreateSchema, KeySchema
from relay.api.schemas.tenants import (
    TenantCreateSchema,
    TenantPatchSchema,
    TenantProvidersSchema,
    TenantSchema,
)
from relay.api.spec import documented
from relay.storage.models import ApiKey, Tenant
from relay.tenancy.tenant_admin import (
    create_tenant_with_flows,
    get_tenant,
    key_view,
    list_keys_stmt,
    set_tenant_providers,
    tenant_providers,
    tenant_view,
    update_tenant,
)
from relay.tenancy.tenants import create_key

bp = blueprint("tenants", __name__)
OPERATOR = ("operator",)


@bp.post("/tenants")
@documented(
    "Create a tenant (with the default flows)",
    tags=OPERATOR,
    body=TenantCreateSchema,
    example={
        "name": "shop.example.by",
        "region": "BY",
        "settings": {"optout_footer": "Отказ: STOP на 7020"},
    },
    response=TenantSchema,
    status=201,
    errors=(409,),
)
@operator_only
def create_tenant() -> ResponseReturnValue:
    """POST /v1/tenants."""
    spec = load_body(TenantCreateSchema())
    session = db()
    tenant = create_tenant_with_flows(session, spec)
    view = tenant_view(tenant, [])
    record("tenant.create", "tenant", tenant.id, tenant_id=tenant.id, after=view)
    commit()
    return jsonify(view), 201


@bp.get("/tenants")
@documented("List tenants, by name", tags=OPERATOR, query=PageQuerySchema, page=TenantSchema)
@operator_only
def list_tenants() -> Response:
    """GET /v1/tenants, by name."""
    page = load_query(PageQuerySchema())
    return keyset_page(db(), select(Tenant), Tenant.name, page, tenant_view)


@bp.get("/tenants/<tenant_id>")
@documented("A tenant with its gateways", tags=OPERATOR, response=TenantSchema)
@operator_only
def get_tenant_view(tenant_id: str) -> Response:
    """GET /v1/tenants/<id>."""
    tenant = get_tenant(db(), tenant_id)
    return jsonify(tenant_view(tenant, tenant_providers(db(), tenant.id)))


@bp.patch("/tenants/<tenant_id>")
@documented(
    "Change a tenant's status, name, region, zone or settings",
    tags=OPERATOR,
    body=TenantPatchSchema,
    example={"status": "disabled"},
    response=TenantSchema,
    errors=(409,),
)
@operator_only
def patch_tenant(tenant_id: str) -> Response:
    """PATCH /v1/tenants/<id>."""
    session = db()
    tenant = get_tenant(session, tenant_id)
    changes = load_body(TenantPatchSchema())
    before = tenant_view(tenant)
    update_tenant(session, tenant, changes)
    after = tenant_view(tenant)
    action = "tenant.update"
    if before["status"] != after["status"]:
        action = "tenant.disable" if after["status"] == "disabled" else "tenant.enable"
    record(action, "tenant", tenant.id, tenant_id=tenant.id, before=before, after=after)
    commit()
    return jsonify(tenant_view(tenant, tenant_providers(session, tenant.id)))


@bp.post("/tenants/<tenant_id>/keys")
@documented(
    "Create a key for a tenant (the key is shown once)",
    tags=OPERATOR,
    body=KeyCreateSchema,
    example={"scopes": ["events:write", "messages:read", "admin"], "name": "back office"},
    response=KeyCreatedSchema,
    status=201,
)
@operator_only
def create_tenant_key(tenant_id: str) -> ResponseReturnValue:
    """POST /v1/tenants/<id>/keys."""
    session = db()
    tenant = get_tenant(session, tenant_id)
    spec = load_body(KeyCreateSchema())
    row, key = create_key(session, tenant, spec["scopes"], spec.get("name"))
    view = key_view(row)
    record("key.create", "api_key", row.id, tenant_id=tenant.id, after=view)
    commit()
    return jsonify({**view, "key": key}), 201


@bp.get("/tenants/<tenant_id>/keys")
@documented("A tenant's keys (prefix only)", tags=OPERATOR, query=PageQuerySchema, page=KeySchema)
@operator_only
def list_tenant_keys(tenant_id: str) -> Response:
    """GET /v1/tenants/<id>/keys."""
    tenant = get_tenant(db(), tenant_id)
    page = load_query(PageQuerySchema())
    return keyset_page(db(), list_keys_stmt(tenant.id), ApiKey.id, page, key_view)


@bp.put("/tenants/<tenant_id>/providers")
@documented(
    "Set a tenant's gateways in order of preference",
    tags=OPERATOR,
    body=TenantProvidersSchema,
    example={"providers": ["sandbox-1"]},
    response=TenantSchema,
    errors=(422,),
)
@operator_only
def put_tenant_providers(tenant_id: str) -> Response:
    """PUT /v1/tenants/<id>/providers."""
    session = db()
    tenant = get_tenant(session, tenant_id)
    names = load_body(TenantProvidersSchema())["providers"]
    before = tenant_providers(session, tenant.id)
    after = set_tenant_providers(session, tenant, names)
    record(
        "tenant.providers",
        "tenant",
        tenant.id,
        tenant_id=tenant.id,
        before={"providers": before},
        after={"providers": after},
    )
    commit()
    return jsonify(tenant_view(tenant, after))
