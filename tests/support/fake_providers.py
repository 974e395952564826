"""Test gateways that subclass the real Provider: scripted outcomes, recorded sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from relay.providers import PROVIDER_TYPES
from relay.providers.base import (
    TRANSIENT,
    Inbound,
    OutboundMessage,
    Provider,
    ProviderError,
    Receipt,
    SendResult,
)

SENT: dict[str, list[OutboundMessage]] = {}


class RecordingProvider(Provider):
    """Accepts everything (SMS and Viber), records it, reports receipts from JSON callbacks."""

    type: ClassVar[str] = "recording"
    channels: ClassVar[frozenset[str]] = frozenset({"sms", "viber"})

    def _send(self, msg: OutboundMessage) -> SendResult:
        SENT.setdefault(self.name, []).append(msg)
        return SendResult(provider_message_id=f"{self.name}-{len(SENT[self.name])}")

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        if data.get("status") not in (
            "sent",
            "delivered",
            "read",
            "undelivered",
            "failed",
            "expired",
        ):
            raise ValueError(f"unknown status {data.get('status')!r}")
        return [
            Receipt(
                status=data["status"],
                message_id=data.get("id"),
                provider_message_id=data.get("ref"),
            )
        ]

    def parse_inbound(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Inbound]:
        if "from" not in data or "text" not in data:
            raise ValueError("from and text are required")
        return [
            Inbound(
                sender=str(data["from"]),
                recipient=str(data.get("to", "")),
                text=str(data["text"]),
                provider_ref=data.get("id"),
            )
        ]


class FlakyProvider(RecordingProvider):
    """Fails every send transiently (a gateway that is down)."""

    type: ClassVar[str] = "flaky"

    def _send(self, msg: OutboundMessage) -> SendResult:
        SENT.setdefault(self.name, []).append(msg)
        raise ProviderError(TRANSIENT, "unavailable", "gateway down")


def register() -> None:
    """Make the fake types known to the registry."""
    SENT.clear()
    PROVIDER_TYPES[RecordingProvider.type] = RecordingProvider
    PROVIDER_TYPES[FlakyProvider.type] = FlakyProvider


def use_providers(rt: Any, tenant_id: str, *specs: tuple[str, str]) -> dict[str, str]:
    """Configure (name, type) providers for a tenant in order; returns name → callback token."""
    from sqlalchemy import delete, select

    from relay.gateways.provider_admin import save_provider
    from relay.storage.models import Provider as ProviderRow
    from relay.storage.models import TenantProvider

    tokens = {}
    with rt.session() as s:
        s.execute(delete(TenantProvider).where(TenantProvider.tenant_id == tenant_id))
        for pos, (name, type_name) in enumerate(specs):
            save_provider(s, name, type_name, {}, rt.secrets)
            row = s.scalar(select(ProviderRow).where(ProviderRow.name == name))
            s.add(TenantProvider(tenant_id=tenant_id, provider_id=row.id, position=pos))
            tokens[name] = row.callback_token
        s.commit()
    return tokens
