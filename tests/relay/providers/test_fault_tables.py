"""Each HTTP adapter's fault table, against its stand-in: what a gateway or the network does
to a send, and what the adapter makes of it (docs/security.md, "Duplicate sends").

| fault                                   | kind       | the message                        |
| timeout before send (no connection)     | transient  | retried: nothing was sent          |
| connection refused                      | transient  | retried: nothing was sent          |
| timeout after send (accepted, no answer)| ambiguous  | `unknown`, never resent blindly    |
| connection reset after the request      | ambiguous  | `unknown`, never resent blindly    |
| HTTP 500                                | transient  | retried (the gateway did not take) |
| HTTP 4xx (the gateway's own refusal)    | permanent  | failed                             |
| HTTP 429, JSON or text body             | throttled  | waits and is retried, never failed |
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from relay.providers.base import (
    AMBIGUOUS,
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    OutboundMessage,
    Provider,
    ProviderError,
)
from relay.providers.smsc import SmscProvider
from relay.providers.smsru import SmsRuProvider
from relay.providers.twilio import TwilioProvider
from tests.support.standins import StandIn, Unconnectable
from tests.support.standins.smsc import SmscStandIn
from tests.support.standins.smsru import SmsRuStandIn
from tests.support.standins.twilio import TwilioStandIn

SID, TOKEN = "AC" + "0123456789abcdef" * 2, "f00dfacef00dfacef00dfacef00dface"
MSG = OutboundMessage(
    message_id="0123456789abcdef0123456789abcdef", phone="+79255070602", text="Заказ №727"
)


def _smsru(url: str) -> Provider:
    return SmsRuProvider("smsru", {"api_id": "api", "base_url": url, "timeout": 0.5})


def _smsc(url: str) -> Provider:
    return SmscProvider("smsc", {"login": "shop", "psw": "pw", "base_url": url, "timeout": 0.5})


def _twilio(url: str) -> Provider:
    config = {"account_sid": SID, "auth_token": TOKEN, "from_number": "+15005550006"}
    return TwilioProvider("twilio", {**config, "base_url": url, "timeout": 0.5})


ADAPTERS: dict[str, tuple[Callable[[], StandIn], Callable[[str], Provider]]] = {
    "smsru": (lambda: SmsRuStandIn("api"), _smsru),
    "smsc": (lambda: SmscStandIn("shop", "pw"), _smsc),
    "twilio": (lambda: TwilioStandIn(SID, TOKEN), _twilio),
}
# each adapter's own 4xx refusal: the stand-in's documented answer for a bad request
REFUSAL: dict[str, Callable[[Any], None]] = {
    "smsru": lambda s: setattr(s, "fail_next", 202),
    "smsc": lambda s: setattr(s, "fail_next", 7),
    "twilio": lambda s: setattr(s, "fail_next", (21211, 400)),
}


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> Iterator[tuple[str, StandIn, Provider]]:
    make_standin, make_provider = ADAPTERS[request.param]
    with make_standin() as standin:
        provider = make_provider(standin.url)
        provider.timeout = (0.3, 0.5)  # type: ignore[attr-defined]
        yield request.param, standin, provider


def _send(provider: Provider) -> ProviderError | None:
    try:
        provider.send(MSG)
    except ProviderError as err:
        return err
    return None


@pytest.mark.parametrize(
    ("fault", "kind", "taken"),
    [
        ("hang", AMBIGUOUS, 1),  # timeout after send: the gateway has it
        ("reset", AMBIGUOUS, 1),  # connection reset after the request was written
        ("http_500", TRANSIENT, 0),
        ("429_json", THROTTLED, 0),
        ("429_text", THROTTLED, 0),
    ],
)
def test_fault_table(adapter, fault, kind, taken):
    name, standin, provider = adapter
    standin.fault, standin.hang = fault, 1.5
    err = _send(provider)
    assert err is not None and err.kind == kind, (name, fault, err)
    assert len(standin.accepted) == taken  # what the gateway took: never more than once
    assert len(standin.calls) <= 1  # the adapter itself never repeats a send
    if fault == "429_json":
        assert err.retry_after == 2.0


def test_fault_table_refusal_is_permanent(adapter):
    name, standin, provider = adapter
    REFUSAL[name](standin)
    err = _send(provider)
    assert err is not None and err.kind == PERMANENT, (name, err)
    assert standin.accepted == []


def test_fault_table_nothing_sent_is_transient(adapter):
    name, _, make = adapter[0], adapter[1], ADAPTERS[adapter[0]][1]
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}"
    err = _send(make(refused))
    assert err is not None and (err.kind, err.code) == (TRANSIENT, "not_connected"), name
    with Unconnectable() as url:  # the connection is never made: a connect timeout
        provider = make(url)
        provider.timeout = (0.3, 0.5)  # type: ignore[attr-defined]
        err = _send(provider)
    assert err is not None and (err.kind, err.code) == (TRANSIENT, "not_connected"), name
