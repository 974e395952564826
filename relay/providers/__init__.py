"""Providers: the gateways delivery sends through, and the accounts a tenant has with them.

One adapter per gateway behind `Provider`, the router with failover, and the tenant's provider
accounts and their administration (`provider_accounts`, `provider_admin`). Delivery sends
through here; receipts and replies come back through the gateways' callbacks. Types map to
"module:Class" strings and are imported on first use, so a process that only needs the sandbox
never imports an SMPP stack, and an adapter's import error names itself.
"""

from __future__ import annotations

import importlib
from typing import Any

from relay.providers.base import Provider, ProviderConfigError

PROVIDER_TYPES: dict[str, str | type[Provider]] = {
    "sandbox": "relay.providers.sandbox:SandboxProvider",
    "kannel": "relay.providers.kannel:KannelProvider",
    "smsru": "relay.providers.smsru:SmsRuProvider",
    "smsc": "relay.providers.smsc:SmscProvider",
    "twilio": "relay.providers.twilio:TwilioProvider",
    "smpp": "relay.providers.smpp:SmppProvider",
}


def provider_class(type_name: str) -> type[Provider]:
    """The adapter class for a type name; ProviderConfigError for an unknown one."""
    entry = PROVIDER_TYPES.get(type_name)
    if entry is None:
        raise ProviderConfigError(
            f"unknown provider type {type_name!r}; known: {', '.join(sorted(PROVIDER_TYPES))}"
        )
    if isinstance(entry, str):
        module_name, _, class_name = entry.partition(":")
        entry = getattr(importlib.import_module(module_name), class_name)
        PROVIDER_TYPES[type_name] = entry
    return entry


def build_provider(name: str, type_name: str, config: dict[str, Any], **kwargs: Any) -> Provider:
    """Instantiate and validate a provider."""
    return provider_class(type_name)(name, config, **kwargs)
