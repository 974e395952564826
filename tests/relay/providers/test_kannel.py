"""The Kannel adapter against a local stand-in for smsbox: the exact sendsms query, the answer
table, limits, concurrency and network errors (config and callbacks: test_kannel_callbacks.py)."""

from __future__ import annotations

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
from tests.support.kannel import SendsmsStandIn

MID = "0123456789abcdef0123456789abcdef"
BASE = "http://relay.test/callbacks/gw/tok"
CYRILLIC = "Заказ №727 принят. Сумма 29.35 BYN."


@pytest.fixture
def standin() -> Iterator[SendsmsStandIn]:
    with SendsmsStandIn() as server:
        yield server


def provider(url: str, callback_base: str = BASE, **config: Any) -> KannelProvider:
    cfg = {"sendsms_url": url, "username": "relay", "password": "pw", **config}
    return KannelProvider("gw", cfg, callback_base=callback_base)


def out(text: str = CYRILLIC, phone: str = "+79161234567", **kw: Any) -> OutboundMessage:
    return OutboundMessage(message_id=kw.pop("message_id", MID), phone=phone, text=text, **kw)


def test_cyrillic_goes_as_ucs2_with_utf8_charset_and_our_id_in_the_dlr_url(standin):
    result = provider(standin.url, default_sender="SHOP").send(out())
    assert (result.provider_message_id, result.raw["code"]) == (None, "accepted")
    [req] = standin.requests
    assert req["path"] == "/cgi-bin/sendsms"
    assert req["args"] == {
        "username": "relay",
        "password": "pw",
        "to": "+79161234567",
        "text": CYRILLIC,
        "from": "SHOP",
        "coding": "2",
        "charset": "UTF-8",
        "dlr-mask": "31",
        "dlr-url": f"{BASE}/dlr?id={MID}&status=%d&answer=%A&ts=%T&smsc=%i",
    }
    # on the wire the escapes are encoded once, so smsbox decodes them back to %d … itself
    assert (
        f"dlr-url={BASE.replace(':', '%3A').replace('/', '%2F')}%2Fdlr%3Fid%3D{MID}"
        "%26status%3D%25d%26answer%3D%25A%26ts%3D%25T%26smsc%3D%25i" in req["query"]
    )
    assert "to=%2B79161234567" in req["query"]


def test_gsm_text_has_no_coding_nor_charset_and_message_sender_and_smsc_win(standin):
    gw = provider(standin.url, default_sender="SHOP", smsc="mts", dlr_mask=3)
    gw.send(out("Order 727 is ready {pick-up}", sender="STORE"))
    args = standin.requests[0]["args"]
    assert "coding" not in args and "charset" not in args
    assert (args["from"], args["smsc"], args["dlr-mask"], args["text"]) == (
        "STORE",
        "mts",
        "3",
        "Order 727 is ready {pick-up}",
    )


def test_forced_ucs2_encoding_is_kept_for_a_gsm_text(standin):
    provider(standin.url).send(out("plain", encoding="ucs2"))
    assert standin.requests[0]["args"]["coding"] == "2"


def test_no_dlr_parameters_without_a_callback_base_or_with_mask_zero(standin):
    provider(standin.url, callback_base="").send(out())
    provider(standin.url, dlr_mask=0).send(out())
    for req in standin.requests:
        assert not {"dlr-url", "dlr-mask"} & set(req["args"])
    assert "from" not in standin.requests[0]["args"]  # no sender: Kannel's own default applies


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (202, "0: Accepted for delivery", None, "accepted"),
        (202, "3: Queued for later delivery", None, "queued"),
        (403, "Authorization failed for sendsms", PERMANENT, "auth_failed"),
        (403, "Not routable. Do not try again.", PERMANENT, "not_routable"),
        (503, "Temporal failure, try again later.", TRANSIENT, "temporary_failure"),
        (500, "Sending failed.", TRANSIENT, "sending_failed"),
        (400, "Sender missing and no global set, rejected", PERMANENT, "sender_missing"),
        (
            400,
            "Number(s) has/have been denied by white- and/or black-lists.",
            PERMANENT,
            "number_denied",
        ),
        (400, "Missing receiver number, rejected", PERMANENT, "rejected"),
        (403, "Forbidden", PERMANENT, "auth_failed"),
        (502, "Bad Gateway", TRANSIENT, "unavailable"),
        (429, "slow down", THROTTLED, "throttled"),
        (200, "<html>proxy page</html>", PERMANENT, "unexpected_answer"),
    ],
)
def test_answers_map_to_error_kinds(standin, status, body, kind, code):
    standin.answers["+79161234567"] = (status, body)
    gw = provider(standin.url)
    if kind is None:
        assert gw.send(out()).raw == {"status": status, "answer": body, "code": code}
        return
    with pytest.raises(ProviderError) as err:
        gw.send(out())
    assert (err.value.kind, err.value.code) == (kind, code)
    assert body in err.value.message


def test_unreachable_smsbox_is_transient_a_slow_one_ambiguous(standin):
    # nothing reached a closed port: safe to retry; a request smsbox got and did not answer in
    # time may have been queued: ambiguous, the message becomes `unknown`, never resent blindly
    with pytest.raises(ProviderError) as err:
        provider("http://127.0.0.1:1/cgi-bin/sendsms").send(out())
    assert (err.value.kind, err.value.code) == (TRANSIENT, "not_connected")
    assert "pw" not in err.value.message  # the query (with the password) never shows
    standin.delay = 0.5
    with pytest.raises(ProviderError) as err:
        provider(standin.url, timeout=0.1).send(out())
    assert (err.value.kind, err.value.code) == (AMBIGUOUS, "timeout")
    assert "pw" not in err.value.message


def test_more_parts_than_max_parts_is_refused_before_calling_kannel(standin):
    gw = provider(standin.url, max_parts=2)
    assert gw.send(out("Ж" * 134)).raw["code"] == "accepted"  # exactly 2 × 67
    with pytest.raises(ProviderError) as err:
        gw.send(out("Ж" * 135))
    assert (err.value.kind, err.value.code) == (PERMANENT, "too_many_parts")
    with pytest.raises(ProviderError) as err:
        gw.send(out(""))
    assert (err.value.kind, err.value.code) == (PERMANENT, "empty_text")
    assert len(standin.requests) == 1


def test_send_many_keeps_order_and_reuses_keep_alive_connections(standin):
    standin.delay = 0.05
    standin.answers["+79160000003"] = (403, "Not routable. Do not try again.")
    gw = provider(standin.url, concurrency=3)
    msgs = [out(phone=f"+7916000000{i}", message_id=f"{i:032x}") for i in range(8)]
    results = gw.send_many(msgs)
    assert [getattr(r, "code", "ok") for r in results] == ["ok"] * 3 + ["not_routable"] + ["ok"] * 4
    assert standin.max_in_flight == 3  # three at a time, never more
    gw.send_many(msgs)
    assert sorted(r["args"]["to"] for r in standin.requests) == sorted(m.phone for m in msgs + msgs)
    # one keep-alive connection per concurrent sender, reused by the next batch too
    assert len({r["peer"] for r in standin.requests}) == 3
