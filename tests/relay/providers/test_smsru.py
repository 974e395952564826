"""SMS.ru adapter against a stand-in that checks requests the way SMS.ru documents them."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from relay.gateways.provider_admin import save_provider
from relay.providers.base import (
    AMBIGUOUS,
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    OutboundMessage,
    ProviderConfigError,
    ProviderError,
)
from relay.providers.smsru import STATUSES, SmsRuProvider
from relay.storage.models import Provider, TenantProvider
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.standins import Call
from tests.support.standins.smsru import SmsRuStandIn

API_ID = "A3CA597E-3ACF-4E7D-82EE-CF82B52B1A8B"
TEXT = "Заказ №727 принят. Сумма 29.35 BYN."
AT = 1768478400  # 2026-01-15 12:00:00 UTC


@pytest.fixture
def gateway() -> Iterator[SmsRuStandIn]:
    """A running SMS.ru stand-in."""
    with SmsRuStandIn(API_ID) as server:
        yield server


def make(gateway_url: str, **config: Any) -> SmsRuProvider:
    settings = {"api_id": API_ID, "sender": "SHOP", "base_url": gateway_url, **config}
    return SmsRuProvider(
        "smsru-main", settings, callback_base="http://relay.test/callbacks/smsru-main/tok"
    )


def msg(phone: str = "+79255070602", text: str = TEXT, **kw: Any) -> OutboundMessage:
    return OutboundMessage(message_id="a" * 32, phone=phone, text=text, **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- sending -------------------------------------------------------------------------------


def test_send_posts_the_documented_utf8_form(gateway):
    result = make(gateway.url).send(msg())

    call = gateway.last
    assert (call.method, call.path) == ("POST", "/sms/send")
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.params == {
        "api_id": API_ID,
        "to": "79255070602",
        "msg": TEXT,
        "json": "1",
        "from": "SHOP",
    }
    assert b"msg=%D0%97%D0%B0%D0%BA%D0%B0%D0%B7" in call.body  # "Заказ" percent-encoded UTF-8
    assert result.provider_message_id == "000000-10000001"
    assert (result.cost, result.currency, result.immediate_status) == (None, None, None)
    assert "api_id" not in str(result.raw)


def test_message_sender_test_mode_and_partner_id_are_sent(gateway):
    gateway.senders.add("SHOP2")
    make(gateway.url, test=True, partner_id="12345").send(msg(sender="SHOP2"))
    assert gateway.last.params["from"] == "SHOP2"
    assert (gateway.last.params["test"], gateway.last.params["partner_id"]) == ("1", "12345")


def test_cost_in_the_send_answer_becomes_decimal_roubles(gateway):
    gateway.send_cost = "2.05"
    result = make(gateway.url).send(msg())
    assert (result.cost, result.currency) == (Decimal("2.05"), "RUB")


def test_quote_asks_sms_cost_and_counts_parts(gateway):
    provider = make(gateway.url)
    assert provider.quote(msg()) == (Decimal("3.45"), 1)
    assert gateway.last.path == "/sms/cost"
    assert provider.quote(msg(text="Ж" * 100)) == (Decimal("6.9"), 2)


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        (200, PERMANENT, "auth_failed"),
        (201, TRANSIENT, "insufficient_funds"),
        (204, PERMANENT, "sender_not_allowed"),
        (220, TRANSIENT, "unavailable"),
        (231, THROTTLED, "rate_limited"),
        (508, THROTTLED, "rate_limited"),
        (500, TRANSIENT, "unavailable"),
    ],
)
def test_request_level_codes_are_classified(gateway, code, kind, name):
    gateway.fail_next = code
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (kind, name)


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        (202, PERMANENT, "invalid_phone"),
        (207, PERMANENT, "no_route"),
        (209, PERMANENT, "stop_list"),
        (230, TRANSIENT, "number_daily_limit"),
    ],
)
def test_per_number_codes_are_classified(gateway, code, kind, name):
    gateway.per_number["79255070602"] = code
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (kind, name)


def test_wrong_api_id_is_permanent_auth_failure(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url, api_id="wrong").send(msg())
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


def test_http_5xx_is_transient(gateway):
    gateway.http_status = 502
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (TRANSIENT, "http_502")


def test_connection_refused_is_transient():
    with pytest.raises(ProviderError) as err:
        make(f"http://127.0.0.1:{free_port()}").send(msg())
    assert (err.value.kind, err.value.code) == (TRANSIENT, "not_connected")


def test_read_timeout_is_ambiguous_and_not_retried():
    class Slow(SmsRuStandIn):
        def handle(self, request: Request, call: Call) -> Response:
            time.sleep(0.5)
            return super().handle(request, call)

    with Slow(API_ID) as slow:
        with pytest.raises(ProviderError) as err:
            make(slow.url, timeout=0.1).send(msg())
        time.sleep(0.5)
        assert len(slow.calls) == 1  # a read timeout may mean "sent": never resent here
    assert (err.value.kind, err.value.code) == (AMBIGUOUS, "timeout")


# --- check() -------------------------------------------------------------------------------


def test_check_reads_the_balance(gateway):
    assert make(gateway.url).check() == {"ok": True, "balance": "4122.56", "currency": "RUB"}
    assert gateway.last.path == "/my/balance"
    assert gateway.last.params == {"api_id": API_ID, "json": "1"}


def test_check_with_bad_credentials_is_permanent_auth_failed(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url, api_id="nope").check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


# --- callbacks -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), sorted(STATUSES.items()))
def test_every_documented_status_code_maps(gateway, code, status):
    form = gateway.callback_form([f"sms_status\n000000-10000001\n{code}\n{AT}"])
    receipts = make(gateway.url).parse_receipts(form, {})
    if status is None:
        assert receipts == []
        return
    [receipt] = receipts
    assert (receipt.status, receipt.provider_message_id, receipt.message_id) == (
        status,
        "000000-10000001",
        None,
    )
    assert receipt.at == datetime(2026, 1, 15, 12, tzinfo=UTC)
    failed = status in ("expired", "undelivered", "failed")
    assert receipt.error_code == (str(code) if failed else None)


def test_batches_keep_order_and_skip_heartbeats(gateway):
    form = gateway.callback_form(
        [
            f"test\n{AT}",
            f"sms_status\n000000-1\n103\n{AT}",
            f"callcheck_status\n201737-542\n401\n{AT}",
            f"sms_status\n000000-2\n104\n{AT}",
        ]
    )
    receipts = make(gateway.url).parse_receipts(form, {})
    assert [(r.provider_message_id, r.status) for r in receipts] == [
        ("000000-1", "delivered"),
        ("000000-2", "expired"),
    ]


def test_forged_hash_is_rejected_and_a_missing_one_tolerated(gateway):
    provider = make(gateway.url)
    form = gateway.callback_form([f"sms_status\n000000-1\n103\n{AT}"])
    forged = dict(form, hash=hashlib.sha256(b"guess" + form["data[0]"].encode()).hexdigest())
    with pytest.raises(PermissionError):
        provider.parse_receipts(forged, {})
    del form["hash"]
    assert len(provider.parse_receipts(form, {})) == 1


def test_callback_answer_is_100(gateway):
    assert make(gateway.url).callback_response("dlr") == (
        "100",
        200,
        {"Content-Type": "text/plain; charset=utf-8"},
    )


# --- configuration -------------------------------------------------------------------------


def test_config_needs_api_id_and_rejects_unknown_keys():
    with pytest.raises(ProviderConfigError, match="api_id"):
        SmsRuProvider.validate_config({"sender": "SHOP"})
    with pytest.raises(ProviderConfigError, match="apiid"):
        SmsRuProvider.validate_config({"api_id": "x", "apiid": "x"})
    config = SmsRuProvider.validate_config({"api_id": "x"})
    assert (config["base_url"], config["test"]) == ("https://sms.ru", False)
    assert SmsRuProvider.secret_fields() == ("api_id",)


# --- through the relay ---------------------------------------------------------------------


def test_order_event_goes_out_through_smsru_and_the_receipt_delivers_it(rt, client, gateway):
    tenant = make_tenant(rt, "shop-ru", "BY", settings={"transactional_quiet_hours": False})
    with rt.session() as s:
        save_provider(
            s,
            "smsru-main",
            "smsru",
            {"api_id": API_ID, "sender": "SHOP", "base_url": gateway.url},
            rt.secrets,
        )
        row = s.scalar(select(Provider).where(Provider.name == "smsru-main"))
        s.add(TenantProvider(tenant_id=tenant["id"], provider_id=row.id, position=0))
        s.commit()
        token = row.callback_token

    resp = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event("e-smsru", "+375 29 123-45-67", "processing", "2026-01-15T15:00:00+03:00"),
    )
    assert resp.status_code == 202
    [message] = resp.get_json()["messages"]
    run_worker(rt)

    [sent] = gateway.calls_to("/sms/send")
    assert (sent.params["to"], sent.params["msg"]) == ("375291234567", TEXT)
    detail = client.get(f"/v1/messages/{message['id']}", headers=tenant["headers"]).get_json()
    assert (detail["status"], detail["provider"]) == ("sent", "smsru-main")

    form = gateway.callback_form([f"sms_status\n000000-10000001\n103\n{AT}"])
    answer = client.post(f"/callbacks/smsru-main/{token}/dlr", data=form)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "100")
    detail = client.get(f"/v1/messages/{message['id']}", headers=tenant["headers"]).get_json()
    assert detail["status"] == "delivered"
    assert [h["status"] for h in detail["history"]] == ["queued", "sending", "sent", "delivered"]
