"""Twilio adapter against a stand-in of the Messages/Account resources and signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from relay.gateways.provider_admin import save_provider
from relay.providers.base import (
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    OutboundMessage,
    ProviderConfigError,
    ProviderError,
)
from relay.providers.twilio import STATUSES, TwilioProvider
from relay.storage.models import Provider, TenantProvider
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.standins.twilio import TwilioStandIn, query

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f00dfacef00dfacef00dfacef00dface"
FROM = "+15005550006"
SERVICE = "MG0123456789abcdef0123456789abcdef"
TEXT = "Заказ №727 принят. Сумма 29.35 BYN."
MSG_ID = "0123456789abcdef0123456789abcdef"
BASE = "http://relay.test/callbacks/twilio-main/tok"


@pytest.fixture
def gateway() -> Iterator[TwilioStandIn]:
    """A running Twilio stand-in."""
    with TwilioStandIn(SID, TOKEN) as server:
        yield server


def make(gateway_url: str, callback_base: str = BASE, **config: Any) -> TwilioProvider:
    settings = {
        "account_sid": SID,
        "auth_token": TOKEN,
        "from_number": FROM,
        "base_url": gateway_url,
        **config,
    }
    return TwilioProvider("twilio-main", settings, callback_base=callback_base)


def msg(**kw: Any) -> OutboundMessage:
    fields: dict[str, Any] = {"message_id": MSG_ID, "phone": "+79255070602", "text": TEXT}
    fields.update(kw)
    return OutboundMessage(**fields)


def expected_signature(url: str, params: dict[str, str]) -> str:
    """Twilio's documented algorithm, written out here independently of the adapter."""
    data = url
    for key in sorted(params):
        data += key + params[key]
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed_status(
    gateway: TwilioStandIn, provider: TwilioProvider, status: str, error_code: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """What reaches parse_receipts: query + form merged (as the callback endpoint does)."""
    url = provider.status_callback(msg())
    assert url is not None
    form, headers = gateway.status_callback(url, "SM" + "1" * 32, status, error_code=error_code)
    assert headers["X-Twilio-Signature"] == expected_signature(url, form)
    return {**query(url), **form}, headers


# --- sending -------------------------------------------------------------------------------


def test_send_posts_the_documented_form_with_basic_auth(gateway):
    result = make(gateway.url).send(msg())

    call = gateway.last
    assert (call.method, call.path) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert (
        call.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert call.params == {
        "To": "+79255070602",
        "Body": TEXT,
        "From": FROM,
        "StatusCallback": f"{BASE}/dlr?ref={MSG_ID}",
    }
    assert result.provider_message_id.startswith("SM") and len(result.provider_message_id) == 34
    assert (result.cost, result.currency, result.immediate_status) == (None, None, None)
    assert result.raw["status"] == "queued"


def test_messaging_service_replaces_from(gateway):
    make(gateway.url, from_number=None, messaging_service_sid=SERVICE).send(msg())
    assert gateway.last.params["MessagingServiceSid"] == SERVICE
    assert "From" not in gateway.last.params


def test_without_a_public_url_no_status_callback_is_requested(gateway):
    make(gateway.url, callback_base="").send(msg())
    assert "StatusCallback" not in gateway.last.params


@pytest.mark.parametrize(
    ("code", "http", "kind", "name"),
    [
        (21211, 400, PERMANENT, "invalid_phone"),
        (21610, 400, PERMANENT, "unsubscribed"),
        (21614, 400, PERMANENT, "invalid_phone"),
        (30001, 400, TRANSIENT, "queue_overflow"),
        (20429, 429, THROTTLED, "rate_limited"),
        (20500, 500, TRANSIENT, "unavailable"),
        (21999, 400, PERMANENT, "twilio_21999"),
    ],
)
def test_twilio_errors_are_classified(gateway, code, http, kind, name):
    gateway.per_number["+79255070602"] = (code, http)
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (kind, name)


def test_stand_in_rejects_a_bad_number_with_21211(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg(phone="89255070602"))
    assert (err.value.kind, err.value.code) == (PERMANENT, "invalid_phone")


def test_wrong_auth_token_is_permanent_auth_failure(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url, auth_token="wrong").send(msg())
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


# --- check() -------------------------------------------------------------------------------


def test_check_fetches_the_account(gateway):
    assert make(gateway.url).check() == {"ok": True, "status": "active", "name": "Shop account"}
    assert (gateway.last.method, gateway.last.path) == ("GET", f"/2010-04-01/Accounts/{SID}.json")


def test_check_with_bad_credentials_is_permanent_auth_failed(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url, auth_token="nope").check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


def test_check_of_a_suspended_account_fails(gateway):
    gateway.account_status = "suspended"
    with pytest.raises(ProviderError) as err:
        make(gateway.url).check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "account_inactive")


# --- signed callbacks ----------------------------------------------------------------------


@pytest.mark.parametrize(("twilio_status", "status"), sorted(STATUSES.items()))
def test_every_message_status_maps(gateway, twilio_status, status):
    provider = make(gateway.url)
    data, headers = signed_status(gateway, provider, twilio_status, error_code="30003")
    receipts = provider.parse_receipts(data, headers)
    if status is None:
        assert receipts == []
        return
    [receipt] = receipts
    assert (receipt.status, receipt.message_id, receipt.provider_message_id) == (
        status,
        MSG_ID,
        "SM" + "1" * 32,
    )
    assert receipt.error_code == ("30003" if status in ("failed", "undelivered") else None)


def test_forged_or_tampered_callbacks_are_rejected(gateway):
    provider = make(gateway.url)
    data, headers = signed_status(gateway, provider, "delivered")
    with pytest.raises(PermissionError):
        provider.parse_receipts(data, {"X-Twilio-Signature": "Zm9yZ2Vk"})
    with pytest.raises(PermissionError):
        provider.parse_receipts(data, {})
    with pytest.raises(PermissionError):  # status changed after signing
        provider.parse_receipts({**data, "MessageStatus": "failed"}, headers)
    with pytest.raises(PermissionError):  # the ref is part of the signed URL
        provider.parse_receipts({**data, "ref": "f" * 32}, headers)
    with pytest.raises(PermissionError):  # signed with another account's token
        other = TwilioStandIn(SID, "another-token")
        form, forged = other.status_callback(f"{BASE}/dlr?ref={MSG_ID}", "SM1", "delivered")
        provider.parse_receipts({"ref": MSG_ID, **form}, forged)
    assert (
        len(provider.parse_receipts(data, {"x-twilio-signature": headers["X-Twilio-Signature"]}))
        == 1
    )  # header names are case-insensitive


def test_incoming_message_webhook_and_empty_twiml_answer(gateway):
    provider = make(gateway.url)
    form, headers = gateway.incoming(f"{BASE}/inbound", "+79255070602", "СТОП")
    [inbound] = provider.parse_inbound(form, headers)
    assert (inbound.sender, inbound.recipient, inbound.text) == ("+79255070602", FROM, "СТОП")
    assert inbound.provider_ref == form["MessageSid"]
    with pytest.raises(PermissionError):
        provider.parse_inbound({**form, "Body": "START"}, headers)
    body, status, answer_headers = provider.callback_response("inbound")
    assert (status, answer_headers["Content-Type"]) == (200, "text/xml; charset=utf-8")
    assert body == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


# --- configuration -------------------------------------------------------------------------


def test_config_needs_credentials_and_a_sender():
    with pytest.raises(ProviderConfigError, match="auth_token"):
        TwilioProvider.validate_config({"account_sid": SID, "from_number": FROM})
    with pytest.raises(ProviderConfigError, match="from_number or messaging_service_sid"):
        TwilioProvider.validate_config({"account_sid": SID, "auth_token": TOKEN})
    with pytest.raises(ProviderConfigError, match="account_sid"):
        TwilioProvider.validate_config(
            {"account_sid": "XX1", "auth_token": TOKEN, "from_number": FROM}
        )
    assert TwilioProvider.secret_fields() == ("auth_token",)


# --- through the relay ---------------------------------------------------------------------


def test_order_event_goes_out_through_twilio_and_the_signed_receipt_delivers_it(
    rt, client, gateway
):
    tenant = make_tenant(rt, "shop-twilio", "BY", settings={"transactional_quiet_hours": False})
    with rt.session() as s:
        save_provider(
            s,
            "twilio-main",
            "twilio",
            {"account_sid": SID, "auth_token": TOKEN, "from_number": FROM, "base_url": gateway.url},
            rt.secrets,
        )
        row = s.scalar(select(Provider).where(Provider.name == "twilio-main"))
        s.add(TenantProvider(tenant_id=tenant["id"], provider_id=row.id, position=0))
        s.commit()
        token = row.callback_token

    resp = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event(
            "e-twilio", "+375 29 123-45-67", "processing", "2026-01-15T15:00:00+03:00"
        ),
    )
    [message] = resp.get_json()["messages"]
    run_worker(rt)

    [sent] = gateway.calls_to(f"/2010-04-01/Accounts/{SID}/Messages.json")
    callback = sent.params["StatusCallback"]
    assert callback == (f"http://relay.test/callbacks/twilio-main/{token}/dlr?ref={message['id']}")
    assert (sent.params["To"], sent.params["Body"]) == ("+375291234567", TEXT)

    detail = client.get(f"/v1/messages/{message['id']}", headers=tenant["headers"]).get_json()
    assert detail["status"] == "sent"
    form, headers = gateway.status_callback(callback, f"SM{1:032x}", "delivered")
    parts = urlsplit(callback)
    answer = client.post(f"{parts.path}?{parts.query}", data=form, headers=headers)
    assert answer.status_code == 200
    detail = client.get(f"/v1/messages/{message['id']}", headers=tenant["headers"]).get_json()
    assert (detail["status"], detail["provider"]) == ("delivered", "twilio-main")
