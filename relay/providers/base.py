"""The one base class every gateway adapter extends.

`Provider.send` is a template method: it times the call, logs it with the number masked and
turns whatever the adapter or the network raised into a `ProviderError` of one of three kinds,
so the delivery service only ever reasons about transient / permanent / throttled.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import requests

from shared.phones import mask_phone

log = logging.getLogger("relay.providers")

TRANSIENT, PERMANENT, THROTTLED = "transient", "permanent", "throttled"
ERROR_KINDS = (TRANSIENT, PERMANENT, THROTTLED)


class ProviderError(Exception):
    """A send that did not go through, classified so the caller knows whether to retry."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"provider error kind must be one of {ERROR_KINDS}, got {kind!r}")
        super().__init__(f"{kind}/{code}: {message}")
        self.kind, self.code, self.message = kind, code, message


class ProviderConfigError(ValueError):
    """A provider configuration that cannot work (unknown type, missing credential …)."""


@dataclass(frozen=True)
class OutboundMessage:
    """What an adapter needs to send one message; `message_id` is the client reference."""

    message_id: str
    phone: str
    text: str
    channel: str = "sms"
    sender: str | None = None
    encoding: str | None = None
    viber: Mapping[str, Any] | None = None
    callback_url: str | None = None


@dataclass(frozen=True)
class SendResult:
    """A gateway's acceptance of a message."""

    provider_message_id: str | None
    cost: Decimal | None = None
    currency: str | None = None
    # sandbox and synchronous gateways may know the final status at once
    immediate_status: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """A delivery report mapped to a relay status."""

    status: str
    message_id: str | None = None
    provider_message_id: str | None = None
    at: datetime | None = None
    error_code: str | None = None
    cost: Decimal | None = None


@dataclass(frozen=True)
class Inbound:
    """A message a subscriber sent to one of the gateway's numbers."""

    sender: str
    recipient: str
    text: str
    received_at: datetime | None = None
    provider_ref: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


class Provider(ABC):
    """Base of all gateway adapters. Subclasses set `type` and implement `_send`."""

    type: ClassVar[str]
    channels: ClassVar[frozenset[str]] = frozenset({"sms"})
    # the relay's shared send-rate limit for this gateway ("50/second"); set by the router
    rate: str | None = None

    def __init__(
        self,
        name: str,
        config: Mapping[str, Any],
        *,
        callback_base: str = "",
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.config = self.validate_config(dict(config))
        # e.g. "https://relay.example/callbacks/<name>/<token>": receipts and inbound land here
        self.callback_base = callback_base.rstrip("/")
        self.context = dict(context or {})

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise the stored configuration; raise ProviderConfigError."""
        return config

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Config keys that are credentials: never echoed back by the API or the CLI."""
        return ("password", "api_key", "api_id", "auth_token", "token", "secret", "psw")

    def callback_url(self, kind: str) -> str:
        """Where the gateway should call back for `kind` ("dlr" or "inbound")."""
        return f"{self.callback_base}/{kind}" if self.callback_base else ""

    def send(self, msg: OutboundMessage) -> SendResult:
        """Send one message: timing, masked logging and error classification around `_send`."""
        if msg.channel not in self.channels:
            raise ProviderError(
                PERMANENT, "channel_not_supported", f"{self.type} does not send {msg.channel!r}"
            )
        started = time.perf_counter()
        try:
            result = self._send(msg)
        except ProviderError as exc:
            self._log(msg, started, exc.kind, exc.code)
            raise
        except requests.Timeout as exc:
            self._log(msg, started, TRANSIENT, "timeout")
            raise ProviderError(TRANSIENT, "timeout", str(exc)) from exc
        except requests.ConnectionError as exc:
            self._log(msg, started, TRANSIENT, "connection")
            raise ProviderError(TRANSIENT, "connection", str(exc)) from exc
        except requests.RequestException as exc:
            self._log(msg, started, TRANSIENT, "http")
            raise ProviderError(TRANSIENT, "http", str(exc)) from exc
        self._log(msg, started, "ok", result.provider_message_id)
        return result

    def send_many(self, msgs: Sequence[OutboundMessage]) -> list[SendResult | ProviderError]:
        """Send several messages; one result or error per message, in order."""
        out: list[SendResult | ProviderError] = []
        for msg in msgs:
            try:
                out.append(self.send(msg))
            except ProviderError as exc:
                out.append(exc)
        return out

    @abstractmethod
    def _send(self, msg: OutboundMessage) -> SendResult:
        """Adapter-specific send; raise ProviderError for gateway-reported failures."""

    def parse_receipts(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Receipt]:
        """Turn a delivery-report callback (query + form + JSON merged) into receipts."""
        return []

    def parse_inbound(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> list[Inbound]:
        """Turn an inbound-message callback into inbound records."""
        return []

    def callback_response(self, kind: str) -> tuple[str, int, dict[str, str]]:
        """What to answer the gateway's callback with (some gateways expect a given body)."""
        return ("OK", 200, {"Content-Type": "text/plain"})

    def check(self) -> dict[str, Any]:
        """Call the gateway's balance or auth endpoint; raise ProviderError when it fails."""
        return {"ok": True}

    def _log(self, msg: OutboundMessage, started: float, outcome: str, detail: Any) -> None:
        log.info(
            "provider send",
            extra={
                "provider": self.name,
                "provider_type": self.type,
                "message_id": msg.message_id,
                "phone": mask_phone(msg.phone),
                "outcome": outcome,
                "detail": detail,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
