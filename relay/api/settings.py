"""A tenant's settings (scope `admin`): the effective values, and changes to any subset; and
the account a key belongs to (`GET /v1/account`, any key with `events:write`)."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import blueprint, commit, db, load_body, record, tenant_scope
from relay.api.schemas.settings import AccountSchema, SettingsSchema
from relay.api.spec import documented
from relay.storage.models import Tenant
from relay.tenancy.settings_admin import settings_view, update_settings
from relay.tenancy.tenant_admin import get_tenant

bp = blueprint("settings", __name__)
ACCOUNT = ("account",)


def _tenant() -> Tenant:
    """The caller's tenant, loaded in this request's session (g.tenant is a cached copy)."""
    return get_tenant(db(), g.tenant.id)


@bp.get("/settings")
@documented("This tenant's settings (effective values)", tags=ACCOUNT, response=SettingsSchema)
@tenant_scope("admin")
def get_settings() -> Response:
    """GET /v1/settings."""
    return jsonify(SettingsSchema().dump(settings_view(_tenant())))


@bp.patch("/settings")
@documented(
    "Change settings (any subset)",
    tags=ACCOUNT,
    body=SettingsSchema,
    example={"quiet_hours": {"start": "22:00", "end": "08:00"}, "frequency_cap": 3},
    response=SettingsSchema,
)
@tenant_scope("admin")
def patch_settings() -> Response:
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


@bp.get("/account")
@documented(
    "The tenant this key belongs to (a connector's connection test)",
    tags=ACCOUNT,
    response=AccountSchema,
)
@tenant_scope("events:write")
def get_account() -> ResponseReturnValue:
    """GET /v1/account: any key with `events:write` (or `admin`) sees its own tenant."""
    tenant = g.tenant
    return jsonify({"tenant": {"id": tenant.id, "name": tenant.name, "region": tenant.region}})
