"""The real thing: the relay on a real port, Kannel's bearerbox and smsbox, the fake SMSC.

An order event goes in through the API, the worker sends it through smsbox, the SMSC gets the
exact text, Kannel's delivery report comes back to the relay's dlr-url, and a subscriber's reply
comes in through sms-service get-url.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from relay.gateways.provider_admin import save_provider
from relay.providers.base import PERMANENT, OutboundMessage, ProviderError
from relay.providers.kannel import KannelProvider
from relay.providers.router import ProviderRouter
from relay.storage.models import InboundMessage, Message, Provider, TenantProvider
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.kannel import KannelHarness, require_kannel

pytestmark = pytest.mark.kannel


@dataclass
class Gateway:
    """The running relay + Kannel pair of one test."""

    kannel: KannelHarness
    public_url: str
    token: str
    client: Any
    tenant: dict[str, Any]


@pytest.fixture
def gateway(rt, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start the relay app on a real port, then `gateway(region)` starts Kannel pointed at it."""
    require_kannel()
    from relay import create_app

    rt.clock = lambda: datetime.now(UTC)  # Kannel and the worker live in real time
    app = create_app(runtime=rt)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    public = f"http://127.0.0.1:{server.server_port}"
    rt.config["PUBLIC_URL"] = public
    # the router builds callback URLs from the public URL it was given: give it the real one
    rt.providers = ProviderRouter(rt.redis, rt.secrets, public)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    harnesses: list[KannelHarness] = []

    def start(region: str = "RU", *, connect: bool = True) -> Gateway:
        kannel = KannelHarness(tmp_path / f"kannel{len(harnesses)}")
        harnesses.append(kannel)
        tenant = make_tenant(
            rt, f"shop-{region.lower()}", region, settings={"transactional_quiet_hours": False}
        )
        with rt.session() as s:
            token = save_provider(s, "kannel", "kannel", kannel.provider_config(), rt.secrets)[
                "callback_token"
            ]
            pid = s.scalar(select(Provider.id).where(Provider.name == "kannel"))
            s.add(TenantProvider(tenant_id=tenant["id"], provider_id=pid, position=0))
            s.commit()
        kannel.start(f"{public}/callbacks/kannel/{token}/inbound", connect=connect)
        return Gateway(kannel, public, token, app.test_client(), tenant)

    try:
        yield start
    finally:
        for kannel in harnesses:
            kannel.stop()
        server.shutdown()
        thread.join(5)


def post_order(gw: Gateway, event_id: str, phone: str) -> str:
    resp = gw.client.post(
        "/v1/events",
        headers=gw.tenant["headers"],
        json=order_event(event_id, phone, "processing", datetime.now(UTC).isoformat()),
    )
    assert resp.status_code == 202, resp.get_json()
    [msg] = resp.get_json()["messages"]
    assert msg["status"] == "queued"
    return msg["id"]


def wait_for(check: Callable[[], Any], what: str, gw: Gateway, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen in {timeout} s\n{gw.kannel.logs()}")


def detail(gw: Gateway, mid: str) -> dict[str, Any]:
    return gw.client.get(f"/v1/messages/{mid}", headers=gw.tenant["headers"]).get_json()


def test_russian_order_reaches_the_smsc_as_ucs2_and_the_report_makes_it_delivered(rt, gateway):
    gw = gateway("RU", connect=False)  # SMSC held: the report cannot come before `sent`
    mid = post_order(gw, "ru-1", "+7 916 123-45-67")
    run_worker(rt)
    assert detail(gw, mid)["status"] == "sent"

    gw.kannel.release()  # the SMSC connects: the held MT goes out, the report comes back
    line = gw.kannel.read_line()
    assert (line.sender, line.receiver, line.type) == ("SHOP", "+79161234567", "ucs-2")
    assert line.text() == "Заказ №727 принят. Сумма 29.35 BYN."
    got = wait_for(lambda: (d := detail(gw, mid))["status"] == "delivered" and d, "delivery", gw)
    assert [h["status"] for h in got["history"]] == ["queued", "sending", "sent", "delivered"]
    assert (got["provider"], got["encoding"], got["segments"]) == ("kannel", "ucs2", 1)
    gw.kannel.assert_no_line(0.5)


def test_belarusian_order_is_delivered_and_a_second_report_changes_nothing(rt, gateway):
    # held again: with the SMSC connected Kannel reports before the worker commits `sent`,
    # which trips the races in test_kannel_races.py about one run in ten
    gw = gateway("BY", connect=False)
    mid = post_order(gw, "by-1", "+375 29 123-45-67")
    run_worker(rt)
    gw.kannel.release()
    line = gw.kannel.read_line()
    assert (line.receiver, line.type, line.text()) == (
        "+375291234567",
        "ucs-2",
        "Заказ №727 принят. Сумма 29.35 BYN.",
    )
    got = wait_for(lambda: (d := detail(gw, mid))["status"] == "delivered" and d, "delivery", gw)
    assert [h["status"] for h in got["history"]] == ["queued", "sending", "sent", "delivered"]
    # Kannel's own dlr-url again (a retried report): answered, and nothing moves
    resp = gw.client.get(f"/callbacks/kannel/{gw.token}/dlr?id={mid}&status=8&answer=ACK%2F")
    assert (resp.status_code, resp.get_data(as_text=True)) == (200, "")
    assert detail(gw, mid)["history"] == got["history"]


def test_subscriber_reply_is_stored_once_and_nothing_is_sent_back(rt, gateway):
    gw = gateway("BY")
    gw.kannel.send_mo("+375291234567", "79001234567", "СТОП")

    def stored() -> list[tuple[str, str, str, str]]:
        with rt.session() as s:
            return [
                (r.provider, r.sender, r.recipient, r.text)
                for r in s.scalars(select(InboundMessage))
            ]

    wait_for(stored, "the MO callback", gw)
    gw.kannel.assert_no_line(1.5)  # the empty answer is not turned into a reply SMS
    assert stored() == [("kannel", "+375291234567", "79001234567", "СТОП")]


def test_long_text_goes_in_concatenated_parts_that_join_to_the_exact_text(gateway):
    gw = gateway("RU")
    provider = KannelProvider(
        "kannel",
        gw.kannel.provider_config(),
        callback_base=f"{gw.public_url}/callbacks/kannel/{gw.token}",
    )
    text = "Ваш заказ собран и ждёт вас в пункте выдачи до пятницы. " * 3  # 171 units: 3 parts
    provider.send(OutboundMessage(message_id="a" * 32, phone="+79161234567", text=text))
    message = gw.kannel.read_message()
    assert len(message.parts) == 3
    assert message.text("ucs2") == text


def test_check_and_refusals_against_real_kannel(gateway):
    gw = gateway("RU")
    cfg = gw.kannel.provider_config()
    assert KannelProvider("k", cfg).check() == {"ok": True, "via": "sendsms"}
    admin = KannelProvider(
        "k", {**cfg, "admin_url": gw.kannel.admin_url, "admin_password": "kannel-admin-pass"}
    ).check()
    assert (admin["ok"], admin["status"], admin["smscs"][0]["id"]) == (True, "running", "fake")
    assert admin["smscs"][0]["status"].startswith("online")
    wrong = KannelProvider("k", {**cfg, "password": "wrong"})
    for call in (wrong.check, lambda: wrong.send(OutboundMessage("b" * 32, "+79161234567", "hi"))):
        with pytest.raises(ProviderError) as err:
            call()
        assert (err.value.kind, err.value.code) == (PERMANENT, "auth_failed")
    gw.kannel.assert_no_line(0.3)


def test_message_rows_are_untouched_by_a_report_for_an_unknown_id(rt, gateway):
    gw = gateway("RU")
    resp = gw.client.get(f"/callbacks/kannel/{gw.token}/dlr?id={'f' * 32}&status=1")
    assert (resp.status_code, resp.get_data(as_text=True)) == (200, "")
    with rt.session() as s:
        assert s.scalars(select(Message)).all() == []
