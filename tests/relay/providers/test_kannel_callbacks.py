"""The Kannel adapter's configuration, health check, and the delivery-report and MO callbacks
Kannel makes, through the relay's own endpoints (smsbox is a local stand-in here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from relay.errors import RelayError
from relay.gateways.provider_admin import save_provider
from relay.providers.base import PERMANENT, ProviderError
from relay.providers.kannel import KannelProvider
from relay.storage.models import TenantProvider
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.kannel import SendsmsStandIn

MID = "0123456789abcdef0123456789abcdef"
CYRILLIC = "Заказ №727 принят. Сумма 29.35 BYN."


@pytest.fixture
def standin() -> Iterator[SendsmsStandIn]:
    with SendsmsStandIn() as server:
        yield server


def provider(url: str, **config: Any) -> KannelProvider:
    cfg = {"sendsms_url": url, "username": "relay", "password": "pw", **config}
    return KannelProvider("gw", cfg, callback_base="http://relay.test/callbacks/gw/tok")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"sendsms_url": None}, "needs sendsms_url"),
        ({"password": ""}, "needs password"),
        ({"sendsms_url": "ftp://h/sendsms"}, "sendsms_url must be an http(s) URL"),
        ({"sendsms_url": "http:///cgi-bin/sendsms"}, "sendsms_url must be an http(s) URL"),
        ({"dlr_mask": 64}, "dlr_mask must be an integer 0–63"),
        ({"dlr_mask": "31"}, "dlr_mask must be an integer 0–63"),
        ({"max_parts": 0}, "max_parts must be an integer 1–255"),
        ({"timeout": 0}, "timeout must be seconds > 0"),
        ({"smsc": "two words"}, "smsc must be an smsc-id"),
        ({"default_sender": " SHOP"}, "default_sender must be a non-blank string"),
        ({"admin_url": "http://127.0.0.1:13000"}, "admin_url needs admin_password"),
        ({"sendsms-url": "http://x"}, "unknown kannel config keys: sendsms-url"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(rt, config, message):
    base = {
        "sendsms_url": "http://127.0.0.1:13013/cgi-bin/sendsms",
        "username": "u",
        "password": "p",
    }
    with rt.session() as s, pytest.raises(RelayError) as err:
        save_provider(s, "gw", "kannel", {**base, **config}, rt.secrets)
    assert (err.value.code, err.value.status) == ("invalid_provider_config", 422)
    assert message in str(err.value)


def test_config_defaults_are_filled_and_passwords_masked(rt):
    with rt.session() as s:
        saved = save_provider(
            s,
            "gw",
            "kannel",
            {
                "sendsms_url": "http://127.0.0.1:13013/cgi-bin/sendsms",
                "username": "u",
                "password": "p",
                "admin_url": "http://127.0.0.1:13000/",
                "admin_password": "a",
            },
            rt.secrets,
        )
    assert saved["config"] == {
        "sendsms_url": "http://127.0.0.1:13013/cgi-bin/sendsms",
        "username": "u",
        "password": "***",
        "default_sender": None,
        "smsc": None,
        "dlr_mask": 31,
        "timeout": 10,
        "max_parts": 10,
        "admin_url": "http://127.0.0.1:13000",
        "admin_password": "***",
        "concurrency": 4,
    }


def test_check_probes_sendsms_or_reads_bearerbox_status(standin):
    standin.answers[""] = (400, "Missing receiver number, rejected")
    assert provider(standin.url).check() == {"ok": True, "via": "sendsms"}
    assert standin.requests[0]["args"] == {"username": "relay", "password": "pw"}
    standin.answers[""] = (403, "Authorization failed for sendsms")
    with pytest.raises(ProviderError) as err:
        provider(standin.url).check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")
    admin = standin.admin_url
    standin.answers["status.xml"] = (
        200,
        "<gateway><status>running, uptime 0d</status><smscs>"
        "<smsc><id>fake</id><status>online 5s</status></smsc>"
        "</smscs></gateway>",
    )
    gw = provider(standin.url, admin_url=admin, admin_password="adm")
    assert gw.check() == {
        "ok": True,
        "via": "admin",
        "status": "running",
        "smscs": [{"id": "fake", "status": "online 5s"}],
    }
    assert standin.requests[-1]["args"] == {"password": "adm"}
    standin.answers["status.xml"] = (200, "Denied")
    with pytest.raises(ProviderError) as err:
        gw.check()
    assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")


@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [
        ("1", "", [("delivered", None)]),
        ("2", "NACK/0x0b/Invalid Destination", [("undelivered", "NACK/0x0b/Invalid Destination")]),
        ("4", "", []),
        ("8", "ACK/", [("sent", None)]),
        ("16", "NACK/", [("failed", "NACK/")]),
    ],
)
def test_dlr_types_map_to_receipts(status, answer, expected):
    got = provider("http://k/s").parse_receipts({"id": MID, "status": status, "answer": answer}, {})
    assert [(r.status, r.error_code) for r in got] == expected
    assert all(r.message_id == MID and r.at is None for r in got)


@pytest.mark.parametrize(
    "data",
    [
        {"id": MID, "status": "3"},
        {"id": MID, "status": "%d"},
        {"id": MID},
        {"status": "1"},
        {"id": MID, "status": "-1"},
    ],
)
def test_invalid_dlr_is_a_value_error(data):
    with pytest.raises(ValueError, match="Kannel DLR"):
        provider("http://k/s").parse_receipts(data, {})


def configure(rt, tenant, url: str) -> str:  # type: ignore[no-untyped-def]
    """A `kannel` provider for the tenant; returns its callback token."""
    from sqlalchemy import select

    from relay.storage.models import Provider

    with rt.session() as s:
        saved = save_provider(
            s,
            "kannel",
            "kannel",
            {"sendsms_url": url, "username": "relay", "password": "pw"},
            rt.secrets,
        )
        pid = s.scalar(select(Provider.id).where(Provider.name == "kannel"))
        s.add(TenantProvider(tenant_id=tenant["id"], provider_id=pid, position=0))
        s.commit()
    return saved["callback_token"]


def test_worker_sends_via_kannel_and_the_dlr_url_kannel_would_call_updates_status(
    rt, client, standin
):
    tenant = make_tenant(rt, "shop", "BY", settings={"transactional_quiet_hours": False})
    token = configure(rt, tenant, standin.url)
    [msg] = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event("o1", "+375 29 123-45-67", "processing", "2026-01-15T15:00:00+03:00"),
    ).get_json()["messages"]
    run_worker(rt)
    [req] = standin.requests
    assert (req["args"]["to"], req["args"]["text"]) == ("+375291234567", CYRILLIC)
    dlr = urlsplit(req["args"]["dlr-url"])
    assert dlr.path == f"/callbacks/kannel/{token}/dlr"
    for kannel_status in ("8", "4", "1"):  # what smsbox calls: %d substituted
        resp = client.get(
            dlr.path
            + "?"
            + unquote(dlr.query)
            .replace("%d", kannel_status)
            .replace("%A", "")
            .replace("%T", "1768478400")
            .replace("%i", "fake")
        )
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "")
    detail = client.get(f"/v1/messages/{msg['id']}", headers=tenant["headers"]).get_json()
    assert [h["status"] for h in detail["history"]] == ["queued", "sending", "sent", "delivered"]
    assert (detail["status"], detail["provider"]) == ("delivered", "kannel")
    bad = client.get(f"{dlr.path}?id={msg['id']}&status=7")
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_receipt")
    assert client.get(f"/callbacks/kannel/wrong/dlr?id={msg['id']}&status=2").status_code == 403


def test_mo_is_stored_once_and_answered_with_an_empty_body(rt, client, standin):
    from relay.storage.models import InboundMessage

    token = configure(rt, make_tenant(rt, "shop", "BY"), standin.url)
    query = (
        "from=%2B375291234567&to=79001234567&text=%D0%A1%D0%A2%D0%9E%D0%9F&coding=0"
        "&charset=UTF-8&ts=1768478400&smsc=fake&id=26ef399c-4405-43a1-a0c7-643b0e5d7ef8"
    )
    for _ in range(2):  # a retried get-url is the same MO
        resp = client.get(f"/callbacks/kannel/{token}/inbound?{query}")
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "")
    raw_ucs2 = (
        "from=%2B375291234567&to=79001234567&text=%04%21%04%22%04%1E%04%1F&coding=2"
        "&charset=UTF-16BE&ts=1768478401&id=u2"
    )
    assert client.get(f"/callbacks/kannel/{token}/inbound?{raw_ucs2}").status_code == 200
    binary = "from=%2B375291234567&to=79001234567&text=%00%FF&coding=1&id=b1"
    assert client.get(f"/callbacks/kannel/{token}/inbound?{binary}").status_code == 200
    with rt.session() as s:
        rows = s.query(InboundMessage).order_by(InboundMessage.id).all()
        got = [
            (r.provider, r.sender, r.recipient, r.text, r.dedupe_key, r.received_at.isoformat())
            for r in rows
        ]
    assert got == [
        (
            "kannel",
            "+375291234567",
            "79001234567",
            "СТОП",
            "26ef399c-4405-43a1-a0c7-643b0e5d7ef8",
            "2026-01-15T12:00:00+00:00",
        ),
        ("kannel", "+375291234567", "79001234567", "СТОП", "u2", "2026-01-15T12:00:01+00:00"),
    ]
    missing = client.get(f"/callbacks/kannel/{token}/inbound?from=%2B375291234567&text=x")
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (400, "invalid_inbound")
