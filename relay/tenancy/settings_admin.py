"""A tenant's settings through the admin API: merge a change over what is stored, check what
the schema cannot (a rate the limiter understands, a footer that really opts out, phone
numbers), and show the effective values."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from relay.adapters.throttle import parse_rate
from relay.errors import RelayError
from relay.policy import has_optout_wording
from relay.storage.models import Tenant
from relay.tenancy.settings import merged_settings, validate_settings, validate_timezone
from relay.tenancy.tenant_cache import TENANT_CONFIG
from relay.tenancy.tenants import forget_cached_keys
from shared.phones import PhoneError, normalize_phone

# the keys GET /v1/settings shows; other stored keys (e.g. tariffs) are kept but not shown
SHOWN = (
    "quiet_hours",
    "transactional_quiet_hours",
    "timezone_mode",
    "frequency_cap",
    "frequency_window_days",
    "optout_footer",
    "consent_source_line",
    "rate",
    "api_rate_limit",
    "notification_contacts",
    "supported_regions",
    "tracking",
    "attribution",
)


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _bad(field: str, message: str) -> RelayError:
    return RelayError("invalid_settings", f"{field}: {message}", 422, {field: [message]})


def apply_settings(
    current: dict[str, Any], patch: dict[str, Any], region: str = "RU"
) -> dict[str, Any]:
    """`current` with `patch` merged in (top-level keys replace), checked as a whole.

    `patch` has already passed the schema (types, ranges, HH:MM); here are the rules that
    span fields or need other parts of the relay.
    """
    merged = {**current, **patch}
    quiet = merged.get("quiet_hours")
    if quiet and quiet.get("start") == quiet.get("end"):
        raise _bad("quiet_hours", "start and end must differ (omit quiet_hours for the default)")
    footer = merged.get("optout_footer")
    if footer and not has_optout_wording(footer):
        raise _bad(
            "optout_footer",
            "the footer must tell how to opt out (STOP, СТОП, отписаться …) or be empty",
        )
    for key in ("rate", "api_rate_limit"):
        if merged.get(key):
            try:
                parse_rate(merged[key])
            except ValueError as exc:
                raise _bad(key, str(exc)) from exc
    contacts = patch.get("notification_contacts")
    if contacts is not None:
        phones = []
        for i, raw in enumerate(contacts.get("phones") or []):
            try:
                phones.append(normalize_phone(raw, region))
            except PhoneError as exc:
                raise _bad(f"notification_contacts.phones.{i}", exc.for_caller()) from exc
        emails = [str(e).strip() for e in contacts.get("emails") or []]
        for i, email in enumerate(emails):
            if not EMAIL.match(email):
                raise _bad(f"notification_contacts.emails.{i}", f"not an e-mail address: {email}")
        if len(emails) > 20 or len(phones) > 20:
            raise _bad("notification_contacts", "at most 20 e-mail addresses and 20 phones")
        merged["notification_contacts"] = {
            "emails": emails,
            "phones": phones,
        }
    try:
        validate_settings(merged)
    except ValueError as exc:
        raise RelayError("invalid_settings", str(exc), 422) from exc
    return merged


def settings_view(tenant: Tenant) -> dict[str, Any]:
    """The effective settings (stored over defaults) with the store's zone and phone region."""
    merged = merged_settings(tenant)
    out: dict[str, Any] = {"timezone": tenant.timezone, "region": tenant.region}
    for key in SHOWN:
        out[key] = merged.get(key)
    out["notification_contacts"] = out["notification_contacts"] or {"emails": [], "phones": []}
    return out


def update_settings(session: Session, tenant: Tenant, patch: dict[str, Any]) -> None:
    """Apply PATCH /v1/settings to a tenant loaded in `session`."""
    patch = dict(patch)
    if "region" in patch:
        tenant.region = patch.pop("region")
    if "timezone" in patch:
        try:
            tenant.timezone = validate_timezone(str(patch.pop("timezone")))
        except ValueError as exc:
            raise _bad("timezone", str(exc)) from exc
    if patch:
        tenant.settings = apply_settings(dict(tenant.settings or {}), patch, tenant.region)
    session.flush()
    # requests authenticate with a cached tenant copy that carries the settings
    forget_cached_keys()
    TENANT_CONFIG.invalidate(tenant.id)
