"""Gateway adapters and the registry of provider types."""

from __future__ import annotations

from typing import Any

from relay.providers.base import Provider, ProviderConfigError
from relay.providers.sandbox import SandboxProvider

PROVIDER_TYPES: dict[str, type[Provider]] = {
    SandboxProvider.type: SandboxProvider,
}


def provider_class(type_name: str) -> type[Provider]:
    """The adapter class for a type name; ProviderConfigError for an unknown one."""
    try:
        return PROVIDER_TYPES[type_name]
    except KeyError:
        raise ProviderConfigError(
            f"unknown provider type {type_name!r}; known: {', '.join(sorted(PROVIDER_TYPES))}"
        ) from None


def build_provider(name: str, type_name: str, config: dict[str, Any], **kwargs: Any) -> Provider:
    """Instantiate and validate a provider."""
    return provider_class(type_name)(name, config, **kwargs)
