"""Flows: trigger + conditions → template, category, channel plan, delay, cancel-on, urgency."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.storage.models import AuditEntry, Flow, Message
from tests.support.factories import order_event

NOON = "2026-01-15T15:00:00+03:00"
NIGHT = "2026-01-15T23:30:00+03:00"


def shipped_flow(**extra):  # type: ignore[no-untyped-def]
    return {
        "name": "order-shipped",
        "trigger": "order.status_changed",
        "conditions": {"order.status": ["shipped", "delivering"]},
        "template": "order_completed",
        "category": "transactional",
        "channels": ["viber", "sms"],
        **extra,
    }


def test_a_new_flow_is_used_by_the_very_next_event(rt, client, tenant):
    made = client.post("/v1/flows", json=shipped_flow(), headers=tenant["headers"])
    assert made.status_code == 201
    flow = made.get_json()
    assert flow["channels"] == ["viber", "sms"] and flow["conditions"] == {
        "order.status": ["shipped", "delivering"]
    }
    event = order_event("s-1", "+375291234567", "shipped", NOON)
    resp = client.post("/v1/events", json=event, headers=tenant["headers"])
    [msg] = resp.get_json()["messages"]
    assert msg["channel"] == "viber"
    with rt.session() as s:
        row = s.get(Message, msg["id"])
        assert (
            row.flow_id == flow["id"]
            and row.fallback_text == "Заказ №727 выполнен. Спасибо за покупку!"
        )
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "flow.create"))
        assert entry.after["name"] == "order-shipped"


def test_replacing_a_flow_changes_what_it_does_and_is_audited(rt, client, tenant):
    client.post("/v1/flows", json=shipped_flow(), headers=tenant["headers"])
    body = shipped_flow(channels=["sms"], urgent=True)
    del body["name"]
    resp = client.put("/v1/flows/order-shipped", json=body, headers=tenant["headers"])
    assert resp.status_code == 200 and resp.get_json()["urgent"] is True
    # urgent transactional: sent even in quiet hours
    event = order_event("s-2", "+375291234567", "shipped", NIGHT)
    [msg] = client.post("/v1/events", json=event, headers=tenant["headers"]).get_json()["messages"]
    assert (msg["channel"], msg["status"]) == ("sms", "queued")
    with rt.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "flow.update"))
        assert entry.before["urgent"] is False and entry.after["urgent"] is True
    got = client.get("/v1/flows/order-shipped", headers=tenant["headers"]).get_json()
    assert got["channels"] == ["sms"]


def test_deleting_a_flow_stops_it(rt, client, tenant):
    assert client.delete("/v1/flows/order-processing", headers=tenant["headers"]).status_code == 200
    event = order_event("p-1", "+375291234567", "processing", NOON)
    assert (
        client.post("/v1/events", json=event, headers=tenant["headers"]).get_json()["messages"]
        == []
    )
    assert client.get("/v1/flows/order-processing", headers=tenant["headers"]).status_code == 404
    assert client.delete("/v1/flows/order-processing", headers=tenant["headers"]).status_code == 404


@pytest.mark.parametrize(
    ("extra", "code", "field"),
    [
        ({"trigger": "order.exploded"}, "validation_error", "trigger"),
        ({"template": "ghost"}, "invalid_flow", "template"),
        ({"category": "marketing"}, "invalid_flow", "category"),
        ({"channels": ["sms", "sms"]}, "invalid_flow", "channels"),
        ({"channels": ["pigeon"]}, "validation_error", "channels"),
        ({"channels": []}, "validation_error", "channels"),
        ({"delay_seconds": -5}, "validation_error", "delay_seconds"),
        ({"delay_seconds": "60"}, "validation_error", "delay_seconds"),
        ({"cancel_on": ["order.exploded"]}, "validation_error", "cancel_on"),
        ({"cancel_key": "order.id"}, "invalid_flow", "cancel_key"),
        ({"cancel_on": ["order.status_changed"]}, "invalid_flow", "cancel_on"),
        ({"urgent": "yes"}, "validation_error", "urgent"),
        ({"name": "spaces are bad"}, "validation_error", "name"),
    ],
)
def test_bad_flows_are_refused_with_the_field(rt, client, tenant, extra, code, field):
    resp = client.post("/v1/flows", json=shipped_flow(**extra), headers=tenant["headers"])
    assert resp.status_code == 422, resp.get_json()
    err = resp.get_json()["error"]
    assert err["code"] == code and field in err["fields"], err
    with rt.session() as s:
        assert (
            s.scalar(select(Flow.id).where(Flow.name.in_(["order-shipped", "spaces are bad"])))
            is None
        )


def test_urgent_marketing_is_refused(client, tenant):
    body = {
        "name": "night-promo",
        "trigger": "cart.abandoned",
        "template": "cart_reminder",
        "category": "marketing",
        "urgent": True,
    }
    resp = client.post("/v1/flows", json=body, headers=tenant["headers"])
    assert resp.status_code == 422 and "urgent" in resp.get_json()["error"]["fields"]


def test_flow_names_are_unique_and_put_needs_an_existing_flow(client, tenant):
    body = shipped_flow(name="order-processing")
    dup = client.post("/v1/flows", json=body, headers=tenant["headers"])
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "flow_exists"
    del body["name"]
    assert client.put("/v1/flows/ghost", json=body, headers=tenant["headers"]).status_code == 404
    listing = client.get("/v1/flows?limit=3", headers=tenant["headers"]).get_json()
    assert [f["name"] for f in listing["items"]] == [
        "cart-abandoned",
        "order-cancelled",
        "order-completed",
    ]
    assert listing["next_cursor"]
