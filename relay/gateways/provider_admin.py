"""Configuring gateways: validated by the adapter, stored encrypted, shown masked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.adapters.crypto import SecretBox
from relay.adapters.throttle import parse_rate
from relay.config import load_config
from relay.errors import RelayError
from relay.providers import provider_class
from relay.providers.base import ProviderConfigError
from relay.storage.models import Provider


def _box() -> SecretBox:
    return SecretBox(load_config()["SECRET_KEY"])


def masked(type_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config with credentials replaced by ***."""
    hidden = set(provider_class(type_name).secret_fields())
    return {k: ("***" if k in hidden else v) for k, v in config.items()}


def save_provider(
    session: Session, name: str, type_name: str, config: Any, box: SecretBox | None = None
) -> dict[str, Any]:
    """Create or replace a provider after the adapter has validated its config."""
    if not isinstance(config, dict):
        raise RelayError("invalid_provider_config", "config must be a JSON object", 422)
    if not name or len(name) > 100 or "/" in name:
        raise RelayError(
            "invalid_name", f"provider name must be 1–100 chars without '/', got {name!r}", 422
        )
    config = dict(config)
    rate = config.pop("rate", None)  # common to every gateway: checked here, not by the adapter
    if rate is not None:
        try:
            parse_rate(str(rate))
        except ValueError as exc:
            raise RelayError(
                "invalid_provider_config", str(exc), 422, {"rate": [str(exc)]}
            ) from exc
    try:
        cls = provider_class(type_name)
        config = cls.validate_config(config)
    except ProviderConfigError as exc:
        code = (
            "unknown_provider_type"
            if "unknown provider type" in str(exc)
            else "invalid_provider_config"
        )
        raise RelayError(code, str(exc), 422) from exc
    if rate is not None:
        config = {**config, "rate": str(rate)}
    box = box or _box()
    row = session.scalar(select(Provider).where(Provider.name == name))
    if row is None:
        row = Provider(name=name, type=type_name, config_encrypted=box.seal(config))
        session.add(row)
    else:
        row.type, row.config_encrypted = type_name, box.seal(config)
    session.flush()
    return {
        "name": name,
        "type": type_name,
        "config": masked(type_name, config),
        "callback_token": row.callback_token,
    }


def list_providers(session: Session, box: SecretBox | None = None) -> list[dict[str, Any]]:
    """Every provider, credentials masked."""
    box = box or _box()
    base = load_config()["PUBLIC_URL"].rstrip("/")
    return [
        {
            "name": r.name,
            "type": r.type,
            "enabled": r.enabled,
            "config": masked(r.type, box.open(r.config_encrypted)),
            # what to configure in the gateway's panel for receipts and replies
            "callbacks": {
                kind: f"{base}/callbacks/{r.name}/{r.callback_token}/{kind}"
                for kind in ("dlr", "inbound")
            },
        }
        for r in session.scalars(select(Provider).order_by(Provider.name))
    ]
