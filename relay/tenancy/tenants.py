"""Tenants and their API keys (keys are shown once and stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from relay.errors import RelayError
from relay.storage.models import ApiKey, Tenant
from relay.tenancy.settings import validate_settings, validate_timezone
from shared.phones import SUPPORTED_REGIONS

SCOPES = ("events:write", "messages:read", "admin")
DEFAULT_ZONES = {"RU": "Europe/Moscow", "BY": "Europe/Minsk", "KZ": "Asia/Almaty"}


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_tenant(
    session: Session,
    name: str,
    region: str,
    timezone: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Tenant:
    """Create a tenant; the region is the default for phone numbers written without +."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise RelayError(
            "invalid_name",
            f"tenant name must be 1–200 characters, got {name!r}",
            422,
            {"name": ["1–200 characters"]},
        )
    region = (region or "").upper()
    if region not in SUPPORTED_REGIONS:
        raise RelayError(
            "unsupported_region",
            f"region must be one of {sorted(SUPPORTED_REGIONS)}, got {region!r}",
            422,
            {"region": [f"one of {sorted(SUPPORTED_REGIONS)}"]},
        )
    zone = timezone or DEFAULT_ZONES[region]
    try:
        validate_timezone(zone)
        validate_settings(settings or {})
    except ValueError as exc:
        raise RelayError("invalid_settings", str(exc), 422) from exc
    if session.scalar(select(Tenant).where(Tenant.name == name)) is not None:
        raise RelayError(
            "tenant_exists", f"a tenant named {name!r} exists", 409, {"name": ["already taken"]}
        )
    tenant = Tenant(name=name, region=region, timezone=zone, settings=settings or {})
    session.add(tenant)
    session.flush()
    return tenant


def find_tenant(session: Session, ref: str) -> Tenant:
    """A tenant by id or name; RelayError `tenant_not_found` otherwise."""
    tenant = session.scalar(select(Tenant).where(or_(Tenant.id == ref, Tenant.name == ref)))
    if tenant is None:
        raise RelayError("tenant_not_found", f"no tenant with id or name {ref!r}", 404)
    return tenant


def create_key(
    session: Session, tenant: Tenant, scopes: list[str], name: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key itself (the only time it is visible)."""
    bad = [s for s in scopes if s not in SCOPES]
    if not scopes or bad:
        raise RelayError(
            "invalid_scope",
            f"scopes must be among {list(SCOPES)}, got {scopes!r}",
            422,
            {"scope": [f"one or more of {list(SCOPES)}"]},
        )
    key = "rk_" + secrets.token_urlsafe(32)
    row = ApiKey(
        tenant_id=tenant.id,
        prefix=key[:10],
        key_hash=hash_key(key),
        scopes=sorted(set(scopes)),
        name=name,
    )
    session.add(row)
    session.flush()
    return row, key


# key hash → (monotonic time, tenant, key); a revoked key stops working within this many seconds
AUTH_CACHE_SECONDS = 5.0
_AUTH_CACHE: dict[str, tuple[float, Tenant, ApiKey]] = {}
# while the database is unreachable, a key it confirmed at most this long ago still
# authenticates, so its events can wait in the intake spool
# (docs/security.md, 'Durable intake spool')
_OUTAGE_TRUST = {"seconds": 3600.0}


def trust_keys_through_outages(seconds: float) -> None:
    """How long a key confirmed by the database keeps authenticating while it is down."""
    if seconds < 0:
        raise ValueError(f"the trust period cannot be negative, got {seconds!r}")
    _OUTAGE_TRUST["seconds"] = float(seconds)


def authenticate(session: Session, key: str) -> tuple[Tenant, ApiKey] | None:
    """The tenant and key row for a presented key, or None (unknown or revoked).

    One joined query, cached per process for AUTH_CACHE_SECONDS: every request is
    authenticated, and this keeps the check off the database on the hot path. When the
    database cannot be reached, a key it confirmed within the outage trust period still
    authenticates (`trust_keys_through_outages`); any other key raises the database's error.
    """
    digest = hash_key(key)
    hit = _AUTH_CACHE.get(digest)
    now = time.monotonic()
    if hit and now - hit[0] < AUTH_CACHE_SECONDS:
        return hit[1], hit[2]
    try:
        found = session.execute(
            select(Tenant, ApiKey)
            .join(ApiKey, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
        ).first()
    except (OperationalError, InterfaceError):
        if hit and now - hit[0] < _OUTAGE_TRUST["seconds"]:
            return hit[1], hit[2]
        raise
    if found is None:
        _AUTH_CACHE.pop(digest, None)
        return None
    tenant, row = found
    session.expunge(tenant)
    session.expunge(row)
    if len(_AUTH_CACHE) > 10000:
        _AUTH_CACHE.clear()
    _AUTH_CACHE[digest] = (now, tenant, row)
    return tenant, row


def remember_keys(session: Session, limit: int = 10000) -> int:
    """Confirm every unrevoked key now (as `authenticate` would), so that while the database
    is away this process accepts the events of any tenant, not only of those it happened to
    serve in the trust period."""
    rows = session.execute(
        select(Tenant, ApiKey)
        .join(ApiKey, ApiKey.tenant_id == Tenant.id)
        .where(ApiKey.revoked_at.is_(None))
        .limit(limit)
    ).all()
    now = time.monotonic()
    for tenant, row in rows:
        session.expunge(tenant)
        session.expunge(row)
        _AUTH_CACHE[row.key_hash] = (now, tenant, row)
    return len(rows)


def forget_cached_keys() -> None:
    """Drop the authentication cache (after revoking keys or disabling a tenant here)."""
    _AUTH_CACHE.clear()


def revoke_key(session: Session, tenant: Tenant, key_id: str, now: datetime) -> ApiKey:
    """Revoke one of the tenant's keys."""
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant.id))
    if row is None:
        raise RelayError("key_not_found", f"no key {key_id!r} for this tenant", 404)
    row.revoked_at = row.revoked_at or now
    forget_cached_keys()
    return row
