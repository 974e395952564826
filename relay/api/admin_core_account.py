"""A tenant's own account (scope admin): its keys, settings, sender names and audit log.

The audit log and sender names are also the operator's: with the operator token they span
every tenant (filter with `tenant_id`), and only the operator activates a sender name.
"""

from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from relay.api.admin_core_common import (
    PageQuerySchema,
    bp,
    commit,
    is_operator,
    keyset_page,
    load_body,
    load_query,
    operator_or_scope,
    record,
    tenant_scope,
)
from relay.api.admin_core_schemas import (
    AuditPageSchema,
    AuditQuerySchema,
    KeyCreatedSchema,
    KeyCreateSchema,
    KeyPageSchema,
    KeySchema,
    SenderCreateSchema,
    SenderPageSchema,
    SenderPatchSchema,
    SenderQuerySchema,
    SenderSchema,
    SettingsSchema,
)
from relay.api.common import db, runtime
from relay.api.spec import documented
from relay.compliance.audit_query import audit_stmt, audit_view
from relay.errors import RelayError
from relay.storage.models import ApiKey, AuditEntry, SenderName, Tenant
from relay.tenancy.sender_admin import create_sender, find_sender, sender_view, set_state
from relay.tenancy.settings_admin import settings_view, update_settings
from relay.tenancy.tenant_admin import find_key, get_tenant, key_view, list_keys_stmt
from relay.tenancy.tenants import create_key, revoke_key

ACCOUNT = ("account",)


def _tenant() -> Tenant:
    """The caller's tenant, loaded in this request's session (g.tenant is a cached copy)."""
    return get_tenant(db(), g.tenant.id)


@bp.get("/keys")
@documented(
    "This tenant's keys (prefix only)", tags=ACCOUNT, query=PageQuerySchema, response=KeyPageSchema
)
@tenant_scope("admin")
def list_keys():  # type: ignore[no-untyped-def]
    """GET /v1/keys."""
    page = load_query(PageQuerySchema())
    return jsonify(keyset_page(db(), list_keys_stmt(g.tenant.id), ApiKey.id, page, key_view))


@bp.post("/keys")
@documented(
    "Create a key (shown once)",
    tags=ACCOUNT,
    body=KeyCreateSchema,
    response=KeyCreatedSchema,
    status=201,
)
@tenant_scope("admin")
def create_own_key():  # type: ignore[no-untyped-def]
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
def revoke_own_key(key_id: str):  # type: ignore[no-untyped-def]
    """DELETE /v1/keys/<id>: the key stops working at once here, within 5 s elsewhere."""
    session = db()
    before = key_view(find_key(session, g.tenant.id, key_id))
    row = revoke_key(session, _tenant(), key_id, runtime().now())
    after = key_view(row)
    if before != after:
        record("key.revoke", "api_key", row.id, tenant_id=g.tenant.id, before=before, after=after)
    commit()
    return jsonify(after)


@bp.get("/audit")
@documented(
    "Admin changes, newest first (operator: every tenant, filter with tenant_id)",
    tags=ACCOUNT,
    query=AuditQuerySchema,
    response=AuditPageSchema,
)
@operator_or_scope("admin")
def list_audit():  # type: ignore[no-untyped-def]
    """GET /v1/audit."""
    query = load_query(AuditQuerySchema())
    if is_operator():
        tenant_id = query.get("tenant_id")
    else:
        tenant_id = g.tenant.id  # a tenant_id filter from a tenant key is ignored, never obeyed
    stmt = audit_stmt(query, tenant_id)
    return jsonify(
        keyset_page(db(), stmt, AuditEntry.id, query, audit_view, descending=True, kind=int)
    )


@bp.get("/settings")
@documented("This tenant's settings (effective values)", tags=ACCOUNT, response=SettingsSchema)
@tenant_scope("admin")
def get_settings():  # type: ignore[no-untyped-def]
    """GET /v1/settings."""
    return jsonify(SettingsSchema().dump(settings_view(_tenant())))


@bp.patch("/settings")
@documented(
    "Change settings (any subset)", tags=ACCOUNT, body=SettingsSchema, response=SettingsSchema
)
@tenant_scope("admin")
def patch_settings():  # type: ignore[no-untyped-def]
    """PATCH /v1/settings."""
    patch = load_body(SettingsSchema())
    session = db()
    tenant = _tenant()
    before = settings_view(tenant)
    update_settings(session, tenant, patch)
    after = settings_view(tenant)
    record("settings.update", "tenant", tenant.id, tenant_id=tenant.id, before=before, after=after)
    commit()
    return jsonify(SettingsSchema().dump(after))


@bp.get("/senders")
@documented(
    "Sender names (operator: every tenant, filter with tenant_id)",
    tags=ACCOUNT,
    query=SenderQuerySchema,
    response=SenderPageSchema,
)
@operator_or_scope("admin")
def list_senders():  # type: ignore[no-untyped-def]
    """GET /v1/senders."""
    query = load_query(SenderQuerySchema())
    stmt = select(SenderName)
    tenant_id = query.get("tenant_id") if is_operator() else g.tenant.id
    if tenant_id:
        stmt = stmt.where(SenderName.tenant_id == tenant_id)
    for key in ("channel", "state"):
        if query.get(key):
            stmt = stmt.where(getattr(SenderName, key) == query[key])
    return jsonify(keyset_page(db(), stmt, SenderName.id, query, sender_view, kind=int))


@bp.post("/senders")
@documented(
    "Request a sender name (the operator may create it active)",
    tags=ACCOUNT,
    body=SenderCreateSchema,
    response=SenderSchema,
    status=201,
    errors=(400, 401, 403, 404, 409, 422),
)
@operator_or_scope("admin")
def request_sender():  # type: ignore[no-untyped-def]
    """POST /v1/senders."""
    spec = load_body(SenderCreateSchema())
    session = db()
    if is_operator():
        if not spec.get("tenant_id"):
            raise RelayError(
                "validation_error",
                "tenant_id is required",
                422,
                {"tenant_id": ["required for the operator"]},
            )
        tenant_id = get_tenant(session, spec["tenant_id"]).id
        state = spec.get("state", "requested")
    else:
        if spec.get("tenant_id") not in (None, g.tenant.id) or spec.get("state") not in (
            None,
            "requested",
        ):
            raise RelayError(
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
    response=SenderSchema,
)
@operator_or_scope("admin")
def patch_sender(sender_id: int):  # type: ignore[no-untyped-def]
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
