"""A phone number as a tenant means it: E.164 with the tenant's default region and only the
countries it serves; anything else is a 422 naming the field."""

from __future__ import annotations

from typing import Any, Literal, overload

from relay.errors import RelayError
from relay.storage.models import Tenant
from relay.tenancy.settings import merged_settings
from shared.phones import PhoneError, normalize_phone


@overload
def tenant_phone(
    tenant: Tenant, raw: Any, field: str = ..., required: Literal[True] = ...
) -> str: ...


@overload
def tenant_phone(
    tenant: Tenant, raw: Any, field: str = ..., required: bool = ...
) -> str | None: ...


def tenant_phone(
    tenant: Tenant, raw: Any, field: str = "phone", required: bool = True
) -> str | None:
    """E.164 for `raw`; None for an absent optional number; RelayError 422 otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if not required:
            return None
        raise RelayError("invalid_phone", "a phone number is required", 422, {field: ["required"]})
    supported = frozenset(merged_settings(tenant)["supported_regions"])
    try:
        return normalize_phone(str(raw), tenant.region, supported)
    except PhoneError as exc:
        # the caller's own input back (masking is for logs, not for the caller's answer)
        message = exc.for_caller()
        raise RelayError(exc.code, message, 422, {field: [message]}) from exc
