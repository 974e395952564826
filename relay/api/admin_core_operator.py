"""Operator routes (RELAY_ADMIN_TOKEN): tenants, their keys, gateway accounts and each
tenant's ordered gateway list. Every change writes an audit entry in the same transaction."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from relay.api.admin_core_common import (
    PageQuerySchema,
    bp,
    commit,
    keyset_page,
    load_body,
    load_query,
    operator_only,
    record,
)
from relay.api.admin_core_schemas import (
    KeyCreatedSchema,
    KeyCreateSchema,
    KeyPageSchema,
    ProviderCheckSchema,
    ProviderPageSchema,
    ProviderSaveSchema,
    ProviderSchema,
    TenantCreateSchema,
    TenantPageSchema,
    TenantPatchSchema,
    TenantProvidersSchema,
    TenantSchema,
)
from relay.api.common import db, runtime
from relay.api.spec import documented
from relay.gateways.provider_accounts import (
    check_account,
    find_provider,
    provider_view,
    save_account,
)
from relay.storage.models import ApiKey, Provider, Tenant
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

OPERATOR = ("operator",)


@bp.post("/tenants")
@documented(
    "Create a tenant (with the default flows)",
    tags=OPERATOR,
    body=TenantCreateSchema,
    response=TenantSchema,
    status=201,
    errors=(400, 401, 403, 409, 422),
)
@operator_only
def create_tenant():  # type: ignore[no-untyped-def]
    """POST /v1/tenants."""
    spec = load_body(TenantCreateSchema())
    session = db()
    tenant = create_tenant_with_flows(session, spec)
    view = tenant_view(tenant, [])
    record("tenant.create", "tenant", tenant.id, tenant_id=tenant.id, after=view)
    commit()
    return jsonify(view), 201


@bp.get("/tenants")
@documented("List tenants", tags=OPERATOR, query=PageQuerySchema, response=TenantPageSchema)
@operator_only
def list_tenants():  # type: ignore[no-untyped-def]
    """GET /v1/tenants, by name."""
    page = load_query(PageQuerySchema())
    return jsonify(keyset_page(db(), select(Tenant), Tenant.name, page, tenant_view))


@bp.get("/tenants/<tenant_id>")
@documented("A tenant with its gateways", tags=OPERATOR, response=TenantSchema)
@operator_only
def get_tenant_view(tenant_id: str):  # type: ignore[no-untyped-def]
    """GET /v1/tenants/<id>."""
    tenant = get_tenant(db(), tenant_id)
    return jsonify(tenant_view(tenant, tenant_providers(db(), tenant.id)))


@bp.patch("/tenants/<tenant_id>")
@documented(
    "Change a tenant's status, name, region, zone or settings",
    tags=OPERATOR,
    body=TenantPatchSchema,
    response=TenantSchema,
    errors=(400, 401, 403, 404, 409, 422),
)
@operator_only
def patch_tenant(tenant_id: str):  # type: ignore[no-untyped-def]
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
    response=KeyCreatedSchema,
    status=201,
)
@operator_only
def create_tenant_key(tenant_id: str):  # type: ignore[no-untyped-def]
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
@documented(
    "A tenant's keys (prefix only)", tags=OPERATOR, query=PageQuerySchema, response=KeyPageSchema
)
@operator_only
def list_tenant_keys(tenant_id: str):  # type: ignore[no-untyped-def]
    """GET /v1/tenants/<id>/keys."""
    tenant = get_tenant(db(), tenant_id)
    page = load_query(PageQuerySchema())
    return jsonify(keyset_page(db(), list_keys_stmt(tenant.id), ApiKey.id, page, key_view))


@bp.put("/tenants/<tenant_id>/providers")
@documented(
    "Set a tenant's gateways in order of preference",
    tags=OPERATOR,
    body=TenantProvidersSchema,
    response=TenantSchema,
)
@operator_only
def put_tenant_providers(tenant_id: str):  # type: ignore[no-untyped-def]
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


def _view(row: Provider) -> dict:
    rt = runtime()
    return provider_view(row, rt.secrets, rt.config.get("PUBLIC_URL") or "")


@bp.post("/providers")
@documented(
    "Create or replace a gateway account (credentials are stored encrypted, shown masked)",
    tags=OPERATOR,
    body=ProviderSaveSchema,
    response=ProviderSchema,
    status=201,
)
@operator_only
def save_provider_view():  # type: ignore[no-untyped-def]
    """POST /v1/providers."""
    session = db()
    spec = load_body(ProviderSaveSchema())
    old = session.scalar(select(Provider).where(Provider.name == spec["name"]))
    before = _view(old) if old is not None else None
    row = save_account(session, spec, runtime().secrets)
    after = _view(row)
    record("provider.save", "provider", row.name, tenant_id=None, before=before, after=after)
    commit()
    return jsonify(after), 200 if before else 201


@bp.get("/providers")
@documented(
    "List gateway accounts", tags=OPERATOR, query=PageQuerySchema, response=ProviderPageSchema
)
@operator_only
def list_providers_view():  # type: ignore[no-untyped-def]
    """GET /v1/providers."""
    page = load_query(PageQuerySchema())
    return jsonify(keyset_page(db(), select(Provider), Provider.name, page, _view))


@bp.get("/providers/<name>")
@documented("A gateway account (credentials masked)", tags=OPERATOR, response=ProviderSchema)
@operator_only
def get_provider_view(name: str):  # type: ignore[no-untyped-def]
    """GET /v1/providers/<name>."""
    return jsonify(_view(find_provider(db(), name)))


@bp.post("/providers/<name>/check")
@documented(
    "Call the gateway's balance or auth endpoint with the stored credentials",
    tags=OPERATOR,
    response=ProviderCheckSchema,
    errors=(401, 403, 404, 422, 502),
)
@operator_only
def check_provider_view(name: str):  # type: ignore[no-untyped-def]
    """POST /v1/providers/<name>/check."""
    return jsonify(check_account(runtime(), db(), name))
