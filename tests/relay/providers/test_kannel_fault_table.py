"""The Kannel adapter's fault table, against a stand-in that answers the way smsbox's sendsms
does (tests/support/standins/kannel.py): what smsbox, a proxy in front of it or the network
does to a send, and what the adapter makes of it (docs/security.md, "Duplicate sends").

| smsbox's answer or the fault                   | kind       | the message                     |
| 202 "0: Accepted for delivery"                 | (sent)     | sent                            |
| 202 "3: Queued for later delivery"             | (sent)     | sent: Kannel holds it           |
| 403 "Not routable. Do not try again."          | permanent  | failed                          |
| 403 "Authorization failed for sendsms"         | permanent  | failed (the gateway's config)   |
| 400 "Number(s) has/have been denied …"         | permanent  | failed                          |
| 503 "Temporal failure, try again later."       | transient  | retried (Kannel did not take)   |
| 500 "Sending failed."                          | transient  | retried (Kannel did not take)   |
| 500 with another text body                     | transient  | retried                         |
| 504 from a proxy that gave up on smsbox        | ambiguous  | `unknown`, never resent blindly |
| 429, text or JSON body                         | throttled  | waits and is retried, never failed |
| no answer in time after the request            | ambiguous  | `unknown`, never resent blindly |
| connection reset after the request was read    | ambiguous  | `unknown`, never resent blindly |
| connection refused / connect timeout           | transient  | retried: nothing was sent       |

Each row prints its counts (run with -s): in (messages), sent (taken by smsbox), duplicated
(taken more than once), and the error kind.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from relay.providers.base import (
    AMBIGUOUS,
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    OutboundMessage,
    ProviderError,
)
from relay.providers.kannel import KannelProvider
from tests.support.standins import Unconnectable
from tests.support.standins.kannel import (
    ACCEPTED,
    NOT_ROUTABLE,
    QUEUED,
    SENDING_FAILED,
    TEMPORAL_FAILURE,
    KannelStandIn,
)

MSG = OutboundMessage(
    message_id="0123456789abcdef0123456789abcdef", phone="+79161234567", text="Заказ №727"
)
DENIED = (400, "Number(s) has/have been denied by white- and/or black-lists.")


@pytest.fixture
def kannel() -> Iterator[KannelStandIn]:
    with KannelStandIn("relay", "pw") as server:
        yield server


def _provider(url: str, password: str = "pw") -> KannelProvider:
    config = {"sendsms_url": url, "username": "relay", "password": password, "timeout": 0.5}
    return KannelProvider("kannel", config, callback_base="http://relay.test/callbacks/k/t")


def _send(provider: KannelProvider) -> ProviderError | None:
    try:
        provider.send(MSG)
    except ProviderError as err:
        return err
    return None


def _counts(row: str, kannel: KannelStandIn | None, err: ProviderError | None) -> dict[str, Any]:
    """in / sent at smsbox / duplicated / kind for one message, as docs/security.md lists."""
    taken = Counter(c.params.get("to") for c in (kannel.accepted if kannel else []))
    out = {
        "in": 1,
        "sent": len(taken),
        "duplicated": sum(n - 1 for n in taken.values()),
        "kind": err.kind if err else "sent",
    }
    print(f"\n[fault table] kannel {row}: {out}")
    return out


@pytest.mark.parametrize(
    ("answer", "kind", "code", "sent"),
    [
        (ACCEPTED, "sent", "accepted", 1),
        (QUEUED, "sent", "queued", 1),
        (NOT_ROUTABLE, PERMANENT, "not_routable", 0),
        (DENIED, PERMANENT, "number_denied", 0),
        (TEMPORAL_FAILURE, TRANSIENT, "temporary_failure", 0),
        (SENDING_FAILED, TRANSIENT, "sending_failed", 0),
    ],
)
def test_kannel_fault_table_smsbox_answers(kannel, answer, kind, code, sent):
    kannel.answer_next = answer
    err: ProviderError | None = None
    try:
        got = ("sent", _provider(kannel.sendsms_url).send(MSG).raw["code"])
    except ProviderError as exc:
        err, got = exc, (exc.kind, exc.code)
    assert got == (kind, code), err
    assert len(kannel.calls) == 1  # the adapter itself never repeats a send
    assert _counts(code, kannel, err) == {"in": 1, "sent": sent, "duplicated": 0, "kind": kind}


def test_kannel_fault_table_wrong_password_is_permanent(kannel):
    err = _send(_provider(kannel.sendsms_url, password="wrong"))
    assert err is not None and (err.kind, err.code) == (PERMANENT, "auth_failed"), err
    assert "wrong" not in err.message  # the query (with the password) never shows
    assert _counts("auth_failed", kannel, err) == {
        "in": 1, "sent": 0, "duplicated": 0, "kind": PERMANENT
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "kind", "code", "sent"),
    [
        ("http_500", TRANSIENT, "unavailable", 0),  # a 5xx with a text body not smsbox's
        ("429_text", THROTTLED, "throttled", 0),
        ("429_json", THROTTLED, "throttled", 0),
        ("hang", AMBIGUOUS, "timeout", 1),  # smsbox took it, the answer never came in time
        ("reset", AMBIGUOUS, "connection_lost", 1),  # took it, then the connection was reset
    ],
)
def test_kannel_fault_table_network_and_proxy(kannel, fault, kind, code, sent):
    kannel.fault, kannel.hang = fault, 1.5
    err = _send(_provider(kannel.sendsms_url))
    assert err is not None and (err.kind, err.code) == (kind, code), (fault, err)
    assert len(kannel.calls) == 1
    if fault == "429_json":
        assert err.retry_after == 2.0  # the gateway's Retry-After is kept
    assert _counts(fault, kannel, err) == {"in": 1, "sent": sent, "duplicated": 0, "kind": kind}


def test_kannel_fault_table_proxy_timeout_is_ambiguous(kannel):
    kannel.proxy_gives_up = (504, "Gateway Time-out")
    err = _send(_provider(kannel.sendsms_url))
    assert err is not None and (err.kind, err.code) == (AMBIGUOUS, "gateway_timeout"), err
    assert _counts("proxy 504", kannel, err) == {
        "in": 1, "sent": 1, "duplicated": 0, "kind": AMBIGUOUS
    }  # fmt: skip


def test_kannel_fault_table_nothing_sent_is_transient():
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/cgi-bin/sendsms"
    err = _send(_provider(refused))
    assert err is not None and (err.kind, err.code) == (TRANSIENT, "not_connected"), err
    with Unconnectable() as url:  # the connection is never made: a connect timeout
        err = _send(_provider(f"{url}/cgi-bin/sendsms"))
    assert err is not None and (err.kind, err.code) == (TRANSIENT, "not_connected"), err
    assert _counts("not connected", None, err) == {
        "in": 1, "sent": 0, "duplicated": 0, "kind": TRANSIENT
    }  # fmt: skip
