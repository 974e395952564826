"""The one base class every gateway adapter extends.

`Provider.send` is a template method: it times the call, logs it with the number masked and
turns whatever the adapter or the network raised into a `ProviderError` of one of four kinds,
so the delivery service only ever reasons about transient / permanent / throttled / ambiguous.

The line between transient and ambiguous is whether the request may have reached the gateway
(docs/security.md, "Duplicate sends"): a connection that was never made (refused, connect
timeout, name not resolved) sent nothing and is retried; a read timeout or a connection reset
after the request was written may have been accepted, so the message becomes `unknown` and is
never resent without a gateway's or an operator's word.
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

from relay.logs import scrub_text
from shared.phones import mask_phone

log = logging.getLogger("relay.providers")

TRANSIENT, PERMANENT, THROTTLED = "transient", "permanent", "throttled"
# the request may have reached the gateway and been accepted: never retried blindly
AMBIGUOUS = "ambiguous"
ERROR_KINDS = (TRANSIENT, PERMANENT, THROTTLED, AMBIGUOUS)


class ProviderError(Exception):
    """A send that did not go through, classified so the caller knows whether to retry.

    `retry_after` (seconds) is the gateway's own word on when to try again (a 429's
    Retry-After), when it gave one."""

    def __init__(
        self, kind: str, code: str, message: str, retry_after: float | None = None
    ) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"provider error kind must be one of {ERROR_KINDS}, got {kind!r}")
        # a network error's text names the URL it failed on, and some gateways take their
        # credentials in the query: the message is stored on the message row and shown
        message = scrub_text(message)
        super().__init__(f"{kind}/{code}: {message}")
        self.kind, self.code, self.message = kind, code, message
        self.retry_after = retry_after


def _nothing_sent(exc: BaseException) -> bool:
    """True when the exception chain shows the connection was never made (nothing was sent)."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(
            cur,
            NewConnectionError | ConnectTimeoutError | NameResolutionError | ConnectionRefusedError,
        ):
            return True
        reason = getattr(cur, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        cur = nxt or cur.__cause__ or cur.__context__
    return False


def network_error(exc: requests.RequestException) -> ProviderError:
    """A network failure as a ProviderError: transient when nothing can have been sent (no
    connection was made), ambiguous when the request may have reached the gateway."""
    if isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and _nothing_sent(exc)
    ):
        return ProviderError(TRANSIENT, "not_connected", "no connection to the gateway")
    if isinstance(exc, requests.Timeout):
        return ProviderError(AMBIGUOUS, "timeout", "no answer in time; the gateway may have it")
    if isinstance(exc, requests.ConnectionError):
        return ProviderError(
            AMBIGUOUS, "connection_lost", "connection lost after sending; the gateway may have it"
        )
    return ProviderError(AMBIGUOUS, "http", f"{type(exc).__name__} while sending")


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (delta-seconds form), else None."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds <= 3600 else None


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
class Lookup:
    """A gateway's answer about one message: it has it (with a receipt status or None while it
    is still on its way) or it has no record of it (`known` false: it was never accepted)."""

    known: bool
    receipt: Receipt | None = None


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
    # messages handed to the gateway at once by `send_many` (all of them are marked "attempt
    # started" before the call, so a crash leaves at most this many `unknown`)
    in_flight: int = 1

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
        except requests.RequestException as exc:
            err = network_error(exc)
            self._log(msg, started, err.kind, err.code)
            raise err from exc
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

    def lookup(self, msg: OutboundMessage, provider_message_id: str | None) -> Lookup | None:
        """Ask the gateway what became of a message whose send got no answer: a `Lookup`, or
        None when this gateway cannot be asked (then a receipt or an operator decides)."""
        return None

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
