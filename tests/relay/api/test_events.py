"""POST /v1/events end to end on the real database and Redis."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from relay.storage.models import ConsentRecord, Event, Message
from tests.support.factories import order_event, run_worker, sandbox_sends

NOON = "2026-01-15T15:00:00+03:00"  # 12:00 UTC, 15:00 in Minsk: no quiet hours


def count(rt, model) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_order_event_is_decided_queued_sent_and_delivered(rt, client, tenant):
    resp = client.post(
        "/v1/events",
        json=order_event("e1", "+375 29 123-45-67", "processing", NOON),
        headers=tenant["headers"],
    )
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["duplicate"] is False
    [msg] = body["messages"]
    assert (msg["channel"], msg["status"], msg["reason"], msg["not_before"]) == (
        "sms",
        "queued",
        None,
        None,
    )

    run_worker(rt)

    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+375291234567"
    assert sent["text"] == "Заказ №727 принят. Сумма 29.35 BYN."
    detail = client.get(f"/v1/messages/{msg['id']}", headers=tenant["headers"]).get_json()
    assert detail["status"] == "delivered"
    assert [h["status"] for h in detail["history"]] == ["queued", "sending", "sent", "delivered"]
    assert (detail["encoding"], detail["segments"], detail["provider"]) == ("ucs2", 1, "sandbox")


def test_duplicate_event_returns_original_messages_and_sends_once(rt, client, tenant):
    event = order_event("dup-1", "+375291234567", "processing", NOON)
    first = client.post("/v1/events", json=event, headers=tenant["headers"])
    second = client.post("/v1/events", json=event, headers=tenant["headers"])
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.get_json()["duplicate"] is True
    assert second.get_json()["messages"] == first.get_json()["messages"]
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1
    assert count(rt, Event) == 1 and count(rt, Message) == 1


def test_event_id_reused_with_other_body_is_409_and_writes_nothing(rt, client, tenant):
    client.post(
        "/v1/events",
        json=order_event("x", "+375291234567", "processing", NOON),
        headers=tenant["headers"],
    )
    resp = client.post(
        "/v1/events",
        json=order_event("x", "+375291234567", "completed", NOON),
        headers=tenant["headers"],
    )
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "event_id_conflict"
    assert count(rt, Message) == 1


def test_consent_event_writes_ledger_record(rt, client, tenant):
    event = {
        "event_id": "c1",
        "type": "consent.granted",
        "occurred_at": NOON,
        "customer": {"phone": "80291234567"},
        "consent": {
            "purpose": "marketing",
            "channel": "sms",
            "granted": True,
            "source": "checkout_checkbox",
            "wording": "Согласен получать SMS",
            "ip": "203.0.113.7",
            "user_agent": "UA/1.0",
            "captured_at": "2026-01-15T14:59:00+03:00",
        },
    }
    assert client.post("/v1/events", json=event, headers=tenant["headers"]).status_code == 202
    with rt.session() as s:
        rec = s.scalars(select(ConsentRecord)).one()
    assert (rec.phone, rec.granted, rec.channel, rec.source, rec.wording, rec.ip) == (
        "+375291234567",
        True,
        "sms",
        "checkout_checkbox",
        "Согласен получать SMS",
        "203.0.113.7",
    )
    assert rec.captured_at == datetime(2026, 1, 15, 11, 59, tzinfo=UTC)


def test_abandoned_cart_without_consent_is_blocked(rt, client, tenant):
    event = {
        "event_id": "cart-1",
        "type": "cart.abandoned",
        "occurred_at": NOON,
        "customer": {"phone": "+375291234567"},
        "cart": {"id": "c-91", "total": "54.00", "url": "https://shop.example.by/c/91"},
    }
    [msg] = client.post("/v1/events", json=event, headers=tenant["headers"]).get_json()["messages"]
    assert (msg["status"], msg["reason"]) == ("blocked", "no_consent")


def test_abandoned_cart_with_consent_waits_and_is_cancelled_by_recovery(rt, client, tenant, clock):
    h = tenant["headers"]
    client.post(
        "/v1/events",
        json={
            "event_id": "c",
            "type": "consent.granted",
            "occurred_at": NOON,
            "customer": {"phone": "+375291234567"},
            "consent": {"granted": True, "source": "checkout_checkbox", "wording": "Да, пишите"},
        },
        headers=h,
    )
    cart = {"id": "c-92", "total": "54.00", "url": "https://shop.example.by/c/92"}
    [msg] = client.post(
        "/v1/events",
        json={
            "event_id": "cart-2",
            "type": "cart.abandoned",
            "occurred_at": NOON,
            "customer": {"phone": "+375291234567"},
            "cart": cart,
        },
        headers=h,
    ).get_json()["messages"]
    assert msg["status"] == "scheduled"
    assert msg["not_before"] == "2026-01-15T13:00:00+00:00"  # 60 min later
    client.post(
        "/v1/events",
        json={"event_id": "rec", "type": "cart.recovered", "occurred_at": NOON, "cart": cart},
        headers=h,
    )
    clock.advance(hours=2)
    run_worker(rt)
    assert sandbox_sends(rt) == []
    detail = client.get(f"/v1/messages/{msg['id']}", headers=h).get_json()
    assert detail["status"] == "cancelled"
