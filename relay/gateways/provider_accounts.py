"""Gateway accounts for the operator API: save (validated by the adapter, sealed with the
runtime's key), show masked, and check against the gateway itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.adapters.crypto import SecretBox
from relay.errors import RelayError
from relay.gateways.provider_admin import masked, save_provider
from relay.providers.base import ProviderConfigError, ProviderError
from relay.runtime import Runtime
from relay.storage.models import Provider


def provider_view(row: Provider, box: SecretBox, public_url: str) -> dict[str, Any]:
    """A gateway account with credentials replaced by *** and its callback address."""
    try:
        config = masked(row.type, box.open(row.config_encrypted))
    except (ProviderConfigError, ValueError):
        config = {}  # unreadable (secret key rotated) or unknown type: show nothing secret
    return {
        "name": row.name,
        "type": row.type,
        "enabled": row.enabled,
        "config": config,
        "callback_url": f"{public_url.rstrip('/')}/callbacks/{row.name}/{row.callback_token}",
    }


def find_provider(session: Session, name: str) -> Provider:
    """A gateway account by name; 404 `provider_not_found`."""
    row = session.scalar(select(Provider).where(Provider.name == name))
    if row is None:
        raise RelayError("provider_not_found", f"no gateway named {name!r}", 404)
    return row


def save_account(session: Session, spec: dict[str, Any], box: SecretBox) -> Provider:
    """Create or replace a gateway account (the adapter validates `config`)."""
    save_provider(session, spec["name"], spec["type"], spec["config"], box=box)
    row = find_provider(session, spec["name"])
    row.enabled = bool(spec.get("enabled", True))
    session.flush()
    return row


def check_account(rt: Runtime, session: Session, name: str) -> dict[str, Any]:
    """Call the gateway's balance or auth endpoint with the stored credentials."""
    row = find_provider(session, name)
    try:
        found = rt.providers.by_name(session, name)
        result = found[1].check() if found else None
    except ProviderError as exc:
        raise RelayError(
            f"provider_{exc.kind}",
            f"{name}: {exc.code}: {exc.message}",
            502,
            {"provider": [exc.code]},
        ) from exc
    except ValueError as exc:  # ProviderConfigError, or a config sealed with another key
        raise RelayError("invalid_provider_config", f"{name}: {exc}", 422) from exc
    return {"name": row.name, "type": row.type, "ok": True, "result": result or {}}
