"""The plugin's events (the PHP builder's fixtures) at the relay: consent ledger, cart reminders.

The JSON files are what `Relay_SMS_Event_Builder` makes (plugin/tests/FixturesTest.php keeps
them equal), so these tests check the PHP payloads against the real relay intake.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from relay.storage.models import ConsentRecord, Message
from tests.connectors.woocommerce.helpers import deliver, order
from tests.support.factories import run_worker, sandbox_sends

PLUGIN = Path(__file__).resolve().parents[3] / "connectors" / "woocommerce" / "plugin"
FIXTURES = PLUGIN / "tests" / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def post(client, tenant, name: str):  # type: ignore[no-untyped-def]
    resp = client.post("/v1/events", json=fixture(name), headers=tenant["headers"])
    assert resp.status_code in (200, 202), resp.get_json()
    return resp.get_json()


def status(client, tenant, message_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get(f"/v1/messages/{message_id}", headers=tenant["headers"]).get_json()


def test_checkbox_consent_is_in_the_ledger_with_its_wording(rt, client, shop):
    post(client, shop["tenant"], "consent_granted")
    with rt.session() as s:
        [record] = s.scalars(select(ConsentRecord)).all()
    assert record.phone == "+375291234567" and record.granted is True
    assert record.wording == fixture("consent_granted")["consent"]["wording"]
    assert record.wording.startswith("Я согласен(на) получать SMS о скидках")
    assert (record.source, record.channel, record.purpose) == (
        "checkout_checkbox",
        "sms",
        "marketing",
    )
    assert record.ip == "203.0.113.7" and record.user_agent.startswith("Mozilla/5.0")
    assert record.captured_at.replace(tzinfo=None).isoformat() == "2026-01-15T11:50:02"
    post(client, shop["tenant"], "consent_revoked")
    with rt.session() as s:
        assert [r.granted for r in s.scalars(select(ConsentRecord).order_by(ConsentRecord.id))] == [
            True,
            False,
        ]


def test_abandoned_cart_without_consent_is_blocked_no_consent(rt, client, shop):
    [msg] = post(client, shop["tenant"], "cart_abandoned")["messages"]
    assert (msg["status"], msg["reason"]) == ("blocked", "no_consent")
    run_worker(rt)
    assert sandbox_sends(rt) == []


def test_order_placed_within_the_delay_cancels_the_reminder(rt, client, shop, clock):
    tenant = shop["tenant"]
    post(client, tenant, "consent_granted")
    [msg] = post(client, tenant, "cart_abandoned")["messages"]
    assert msg["status"] == "scheduled"  # the flow waits 60 minutes
    clock.advance(minutes=20)
    # the customer comes back and orders; the order carries the cart id the plugin saved
    assert (
        deliver(
            client,
            shop["source"],
            "order.created",
            order(date_created_gmt="2026-01-15T12:20:00", date_modified_gmt="2026-01-15T12:20:00"),
        ).status_code
        == 202
    )
    run_worker(rt)
    assert status(client, tenant, msg["id"])["status"] == "cancelled"
    clock.advance(hours=2)
    from relay.delivery.sweeper import sweep

    sweep(rt)  # re-enqueues whatever the database says is due: the reminder is not
    run_worker(rt)
    texts = [s["text"] for s in sandbox_sends(rt)]
    assert texts == ["Заказ №727 принят. Сумма 29.35 BYN."]  # the order message, no reminder
    assert status(client, tenant, msg["id"])["status"] == "cancelled"


def test_cart_recovered_from_the_plugin_cancels_the_reminder(rt, client, shop, clock):
    tenant = shop["tenant"]
    post(client, tenant, "consent_granted")
    [msg] = post(client, tenant, "cart_abandoned")["messages"]
    post(client, tenant, "cart_recovered")
    with rt.session() as s:
        row = s.get(Message, msg["id"])
        assert (row.status, row.reason_detail) == ("cancelled", "cancelled by cart.recovered")


def test_reminder_is_sent_after_the_delay_when_nothing_happens(rt, client, shop, clock):
    from relay.delivery.sweeper import sweep

    tenant = shop["tenant"]
    post(client, tenant, "consent_granted")
    [msg] = post(client, tenant, "cart_abandoned")["messages"]
    clock.advance(minutes=61)
    sweep(rt)  # what the scheduler does when the reminder falls due
    run_worker(rt)
    [sent] = sandbox_sends(rt)
    assert sent["text"].startswith("Анна, вы оставили товары в корзине: https://shop.example.by/")
    assert "STOP" in sent["text"]  # marketing: the opt-out footer
    assert status(client, tenant, msg["id"])["status"] == "delivered"


@pytest.mark.skipif(shutil.which("php") is None, reason="php-cli is not installed")
def test_php_builder_still_makes_these_fixtures(tmp_path):
    # The same check as FixturesTest.php, from here: the files above are the builder's output.
    script = (
        "require '" + str(PLUGIN / "tests" / "bootstrap.php") + "';"
        "echo json_encode(Relay_SMS_Fixture_Inputs::events());"
    )
    out = subprocess.run(["php", "-r", script], capture_output=True, check=True, text=True)
    built = json.loads(out.stdout)
    assert built == {name: fixture(name) for name in built}
    assert set(built) == {"consent_granted", "consent_revoked", "cart_abandoned", "cart_recovered"}
