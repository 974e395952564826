"""SMSC.ru adapter (SMS and Viber) against a stand-in that checks requests as SMSC documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
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
from relay.providers.smsc import STATUSES, SmscProvider, valid_param
from relay.storage.models import Provider, TenantProvider
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.standins.smsc import SmscStandIn

LOGIN, PSW = "shop", "s3cret-Пароль"
TEXT = "Заказ №727 принят. Сумма 29.35 BYN."
MSG_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def gateway() -> Iterator[SmscStandIn]:
    """A running SMSC stand-in."""
    with SmscStandIn(LOGIN, PSW) as server:
        yield server


def make(gateway_url: str, **config: Any) -> SmscProvider:
    settings = {
        "login": LOGIN,
        "psw": PSW,
        "sender": "SHOP",
        "viber_sender": "Shop Viber",
        "base_url": gateway_url,
        **config,
    }
    return SmscProvider(
        "smsc-main", settings, callback_base="http://relay.test/callbacks/smsc-main/tok"
    )


def msg(**kw: Any) -> OutboundMessage:
    fields: dict[str, Any] = {"message_id": MSG_ID, "phone": "+79255070602", "text": TEXT}
    fields.update(kw)
    return OutboundMessage(**fields)


# --- SMS -----------------------------------------------------------------------------------


def test_sms_send_posts_documented_parameters_with_utf8_charset(gateway):
    result = make(gateway.url).send(msg())

    call = gateway.last
    assert (call.method, call.path) == ("POST", "/sys/send.php")
    assert call.params == {
        "login": LOGIN,
        "psw": PSW,
        "phones": "+79255070602",
        "mes": TEXT,
        "charset": "utf-8",
        "fmt": "3",
        "cost": "3",
        "id": MSG_ID,
        "sender": "SHOP",
    }
    assert result.provider_message_id == MSG_ID  # our id is SMSC's id: callbacks name it
    assert (result.cost, result.currency) == (Decimal("2.50"), "RUB")
    assert result.raw == {"id": MSG_ID, "cnt": 1, "cost": "2.50", "balance": "1231.00"}


def test_the_standin_garbles_cyrillic_sent_without_charset(gateway):
    """SMSC reads text as windows-1251 unless told otherwise: the charset flag matters."""
    requests.post(
        f"{gateway.url}/sys/send.php",
        timeout=5,
        data={"login": LOGIN, "psw": PSW, "phones": "+79255070602", "mes": TEXT, "fmt": "3"},
    )
    assert gateway.last.params["mes"] != TEXT


def test_test_mode_only_prices_the_message(gateway):
    result = make(gateway.url, test=True).send(msg())
    assert gateway.last.params["cost"] == "1"
    assert (result.provider_message_id, result.cost) == (None, Decimal("2.50"))


def test_an_id_smsc_cannot_take_is_left_out_and_smsc_id_used(gateway):
    result = make(gateway.url).send(msg(message_id="order:727/1"))
    assert "id" not in gateway.last.params
    assert result.provider_message_id == "1001"


# --- Viber ---------------------------------------------------------------------------------


def test_viber_send_carries_image_button_ttl_and_viber_sender(gateway):
    viber = {
        "image": "https://shop.example.by/img/727.png",
        "button": {"caption": "Открыть заказ", "url": "https://shop.example.by/o/727"},
        "ttl": 3600,
    }
    result = make(gateway.url).send(msg(channel="viber", viber=viber))

    params = gateway.last.params
    assert params["viber"] == "1"
    assert params["sender"] == "Shop Viber"
    assert params["fileurl"] == "https://shop.example.by/img/727.png"
    assert (params["bt_text"], params["bt_url"]) == (
        "Открыть заказ",
        "https://shop.example.by/o/727",
    )
    assert params["valid"] == "01:00"
    assert (params["mes"], params["charset"], params["id"]) == (TEXT, "utf-8", MSG_ID)
    assert result.provider_message_id == MSG_ID


@pytest.mark.parametrize(
    ("seconds", "valid"),
    [
        (1, "00:01"),
        (60, "00:01"),
        (90, "00:02"),
        (3600, "01:00"),
        (5400, "01:30"),
        (86400, "24:00"),
        (14 * 86400, "24:00"),
    ],
)
def test_viber_ttl_becomes_valid_hh_mm_within_smsc_limits(seconds, valid):
    assert valid_param(seconds) == valid


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        (1, PERMANENT, "bad_request"),
        (3, TRANSIENT, "insufficient_funds"),
        (4, TRANSIENT, "ip_blocked"),
        (6, PERMANENT, "content_rejected"),
        (9, THROTTLED, "rate_limited"),
    ],
)
def test_error_codes_are_classified(gateway, code, kind, name):
    gateway.fail_next = code
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (kind, name)


@pytest.mark.parametrize(("code", "name"), [(7, "invalid_phone"), (8, "undeliverable")])
def test_number_errors_are_permanent(gateway, code, name):
    gateway.per_phone["+79255070602"] = code
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (PERMANENT, name)


def test_unregistered_sender_is_refused_permanently(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg(sender="OTHER"))
    assert (err.value.kind, err.value.code) == (PERMANENT, "content_rejected")


def test_wrong_password_is_permanent_auth_failure(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url, psw="wrong").send(msg())
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


def test_http_5xx_is_transient(gateway):
    gateway.http_status = 503
    with pytest.raises(ProviderError) as err:
        make(gateway.url).send(msg())
    assert (err.value.kind, err.value.code) == (TRANSIENT, "http_503")


# --- check() -------------------------------------------------------------------------------


def test_check_reads_the_balance(gateway):
    assert make(gateway.url).check() == {"ok": True, "balance": "1234.50", "currency": "RUB"}
    assert (gateway.last.path, gateway.last.params) == (
        "/sys/balance.php",
        {"login": LOGIN, "psw": PSW, "fmt": "3", "charset": "utf-8"},
    )


def test_check_with_bad_credentials_is_permanent_auth_failed(gateway):
    with pytest.raises(ProviderError) as err:
        make(gateway.url, login="intruder").check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


# --- callbacks -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), sorted(STATUSES.items()))
def test_every_documented_status_maps(gateway, code, status):
    receipts = make(gateway.url).parse_receipts(
        SmscStandIn.status_form(MSG_ID, "+79255070602", code, err=0), {}
    )
    if status is None:
        assert receipts == []
        return
    [receipt] = receipts
    assert (receipt.status, receipt.message_id, receipt.provider_message_id) == (
        status,
        MSG_ID,
        MSG_ID,
    )
    assert receipt.at == datetime(2026, 1, 15, 12, tzinfo=UTC)
    failed = status in ("failed", "undelivered", "expired")
    assert receipt.error_code == (str(code) if failed else None)


def test_the_err_field_explains_a_failure(gateway):
    [receipt] = make(gateway.url).parse_receipts(
        SmscStandIn.status_form(MSG_ID, "+79255070602", 20, err=6), {}
    )
    assert (receipt.status, receipt.error_code) == ("undelivered", "6")


def test_other_notifications_are_ignored_and_garbage_rejected(gateway):
    provider = make(gateway.url)
    assert provider.parse_receipts({"phone": "79255070602", "mes": "STOP"}, {}) == []
    with pytest.raises(ValueError):
        provider.parse_receipts({"id": MSG_ID, "status": "delivered"}, {})
    assert provider.callback_response("dlr")[:2] == ("OK", 200)


# --- configuration -------------------------------------------------------------------------


def test_config_needs_login_and_psw():
    with pytest.raises(ProviderConfigError, match="psw"):
        SmscProvider.validate_config({"login": "shop"})
    with pytest.raises(ProviderConfigError, match="login"):
        SmscProvider.validate_config({"psw": "x"})
    config = SmscProvider.validate_config({"login": "shop", "psw": "x"})
    assert (config["base_url"], config["currency"]) == ("https://smsc.ru", "RUB")
    assert SmscProvider.secret_fields() == ("psw",)
    assert SmscProvider.channels == frozenset({"sms", "viber"})


# --- through the relay ---------------------------------------------------------------------


def test_order_event_goes_out_through_smsc_and_the_receipt_delivers_it(rt, client, gateway):
    tenant = make_tenant(rt, "shop-smsc", "BY", settings={"transactional_quiet_hours": False})
    with rt.session() as s:
        save_provider(
            s,
            "smsc-main",
            "smsc",
            {"login": LOGIN, "psw": PSW, "sender": "SHOP", "base_url": gateway.url},
            rt.secrets,
        )
        row = s.scalar(select(Provider).where(Provider.name == "smsc-main"))
        s.add(TenantProvider(tenant_id=tenant["id"], provider_id=row.id, position=0))
        s.commit()
        token = row.callback_token

    resp = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event("e-smsc", "+375 29 123-45-67", "processing", "2026-01-15T15:00:00+03:00"),
    )
    [message] = resp.get_json()["messages"]
    run_worker(rt)

    [sent] = gateway.calls_to("/sys/send.php")
    assert (sent.params["phones"], sent.params["mes"], sent.params["id"]) == (
        "+375291234567",
        TEXT,
        message["id"],
    )

    form = SmscStandIn.status_form(message["id"], "+375291234567", 1)
    answer = client.post(f"/callbacks/smsc-main/{token}/dlr", data=form)
    assert answer.status_code == 200
    detail = client.get(f"/v1/messages/{message['id']}", headers=tenant["headers"]).get_json()
    assert (detail["status"], detail["provider"]) == ("delivered", "smsc-main")
    assert Decimal(str(detail["cost"])) == Decimal("2.50")
