"""Tenant administration: create with default flows, change status and settings, keys.

The API layer validates shapes; this module owns the rules that need the database (unique
names, existing gateways) and the views written to the API and the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from relay.content.flowdefs import default_flows, load_flows
from relay.errors import RelayError
from relay.messages.messages import iso
from relay.storage.models import ApiKey, Provider, Tenant, TenantProvider
from relay.tenancy.settings_admin import apply_settings
from relay.tenancy.tenant_cache import TENANT_CONFIG
from relay.tenancy.tenants import create_tenant, forget_cached_keys


def tenant_providers(session: Session, tenant_id: str) -> list[str]:
    """The tenant's gateway names, preferred first."""
    return list(
        session.scalars(
            select(Provider.name)
            .join(TenantProvider, TenantProvider.provider_id == Provider.id)
            .where(TenantProvider.tenant_id == tenant_id)
            .order_by(TenantProvider.position)
        )
    )


def tenant_view(tenant: Tenant, providers: list[str] | None = None) -> dict[str, Any]:
    """A tenant as the operator API shows it (and as the audit log records it)."""
    out: dict[str, Any] = {
        "id": tenant.id,
        "name": tenant.name,
        "region": tenant.region,
        "timezone": tenant.timezone,
        "status": tenant.status,
        "settings": dict(tenant.settings or {}),
        "created_at": iso(tenant.created_at),
    }
    if providers is not None:
        out["providers"] = providers
    return out


def key_view(row: ApiKey) -> dict[str, Any]:
    """A key without its secret: the prefix identifies it to a human."""
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "prefix": row.prefix,
        "name": row.name,
        "scopes": list(row.scopes or []),
        "created_at": iso(row.created_at),
        "revoked_at": iso(row.revoked_at),
    }


def create_tenant_with_flows(session: Session, spec: dict[str, Any]) -> Tenant:
    """A new tenant that starts with the editable default flows (like `relay tenants create`)."""
    settings = apply_settings({}, spec.get("settings") or {}, spec["region"])
    tenant = create_tenant(session, spec["name"], spec["region"], spec.get("timezone"), settings)
    load_flows(session, tenant, default_flows())
    return tenant


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    """A tenant by id; 404 `tenant_not_found`."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise RelayError("tenant_not_found", f"no tenant {tenant_id!r}", 404)
    return tenant


def update_tenant(session: Session, tenant: Tenant, changes: dict[str, Any]) -> None:
    """Apply a PATCH: name, status, region, time zone, settings (merged over the old ones)."""
    name = changes.get("name")
    if name is not None and name != tenant.name:
        clash = session.scalar(select(Tenant.id).where(Tenant.name == name, Tenant.id != tenant.id))
        if clash is not None:
            raise RelayError(
                "tenant_exists", f"a tenant named {name!r} exists", 409, {"name": ["taken"]}
            )
        tenant.name = name
    for key in ("status", "region", "timezone"):
        if key in changes:
            setattr(tenant, key, changes[key])
    if "settings" in changes:
        tenant.settings = apply_settings(
            dict(tenant.settings or {}), changes["settings"], tenant.region
        )
    session.flush()
    # authenticated requests carry a cached copy of the tenant (status, settings): drop it
    forget_cached_keys()
    TENANT_CONFIG.invalidate(tenant.id)


def list_keys_stmt(tenant_id: str) -> Select[ApiKey]:
    """The query behind a tenant's key list (paged by the caller)."""
    return select(ApiKey).where(ApiKey.tenant_id == tenant_id)


def find_key(session: Session, tenant_id: str, key_id: str) -> ApiKey:
    """One of the tenant's keys; 404 `key_not_found` for any other tenant's key."""
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id))
    if row is None:
        raise RelayError("key_not_found", f"no key {key_id!r} for this tenant", 404)
    return row


def set_tenant_providers(session: Session, tenant: Tenant, names: list[str]) -> list[str]:
    """Replace the tenant's ordered gateway list; every name must be a configured gateway."""
    if len(set(names)) != len(names):
        raise RelayError(
            "duplicate_provider",
            "a gateway appears twice in the list",
            422,
            {"providers": ["each name once"]},
        )
    rows = {p.name: p for p in session.scalars(select(Provider).where(Provider.name.in_(names)))}
    missing = [n for n in names if n not in rows]
    if missing:
        raise RelayError(
            "provider_not_found",
            f"no gateway named {', '.join(missing)}",
            422,
            {"providers": [f"unknown: {', '.join(missing)}"]},
        )
    session.execute(delete(TenantProvider).where(TenantProvider.tenant_id == tenant.id))
    for position, name in enumerate(names):
        session.add(
            TenantProvider(tenant_id=tenant.id, provider_id=rows[name].id, position=position)
        )
    session.flush()
    return names


def keys_of(session: Session, tenant_id: str) -> list[dict[str, Any]]:
    """Every key of a tenant (prefix only), as GET /v1/keys lists them."""
    return [key_view(row) for row in session.scalars(list_keys_stmt(tenant_id))]
