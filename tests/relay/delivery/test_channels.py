"""Viber with SMS fallback, failover, throttling, cost estimates and receipt edge cases."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from relay.delivery.delivery import deliver
from relay.delivery.sweeper import sweep
from relay.storage.models import Message
from tests.support import fake_providers
from tests.support.factories import make_tenant, run_worker, sandbox_sends

NOON = "2026-01-15T15:00:00+03:00"


@pytest.fixture
def shop(rt):  # type: ignore[no-untyped-def]
    fake_providers.register()
    return make_tenant(rt, "viber-shop", "BY", settings={"transactional_quiet_hours": False})


def viber_event(eid: str, phone: str, **viber):  # type: ignore[no-untyped-def]
    return {
        "event_id": eid,
        "type": "message.requested",
        "occurred_at": NOON,
        "customer": {"phone": phone},
        "message": {
            "text": "Ваш заказ в пути",
            "channel": "viber",
            "category": "transactional",
            "viber": {"button": {"caption": "Трекинг", "url": "https://t.example/1"}, **viber},
            "fallback_text": "Заказ в пути: t.example/1",
        },
    }


def messages(rt):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalars(select(Message).order_by(Message.created_at, Message.channel)).all()


def test_viber_undelivered_falls_back_to_exactly_one_sms(rt, client, shop):
    # the sandbox reports Viber to numbers ending in 04 as undelivered ("not a Viber user")
    resp = client.post(
        "/v1/events", json=viber_event("v1", "+375291234504"), headers=shop["headers"]
    )
    [viber] = resp.get_json()["messages"]
    run_worker(rt)
    run_worker(rt)  # a second pass must not make a second fallback
    rows = messages(rt)
    by_channel = {m.channel: m for m in rows}
    assert len(rows) == 2
    assert by_channel["viber"].status == "undelivered"
    sms = by_channel["sms"]
    assert (sms.fallback_of, sms.status, sms.text) == (
        viber["id"],
        "delivered",
        "Заказ в пути: t.example/1",
    )
    assert [s["channel"] for s in sandbox_sends(rt)] == ["viber", "sms"]


def test_viber_ttl_expiry_falls_back_once(rt, client, shop, clock):
    fake_providers.use_providers(rt, shop["id"], ("gw", "recording"))
    [viber] = client.post(
        "/v1/events", json=viber_event("v2", "+375291234567", ttl=600), headers=shop["headers"]
    ).get_json()["messages"]
    run_worker(rt)
    assert messages(rt)[0].status == "sent"
    clock.advance(minutes=9)
    assert sweep(rt).expired == 0
    clock.advance(minutes=2)
    assert sweep(rt).expired == 1
    assert sweep(rt).expired == 0
    run_worker(rt)
    rows = {m.channel: m for m in messages(rt)}
    assert rows["viber"].status == "expired"
    assert rows["sms"].fallback_of == viber["id"] and rows["sms"].status == "sent"
    assert [m.channel for m in fake_providers.SENT["gw"]] == ["viber", "sms"]


def test_viber_delivered_means_no_fallback(rt, client, shop):
    client.post("/v1/events", json=viber_event("v3", "+375291234567"), headers=shop["headers"])
    run_worker(rt)
    rows = messages(rt)
    assert [(m.channel, m.status) for m in rows] == [("viber", "delivered")]


@pytest.mark.parametrize(
    "viber,field",
    [
        ({"button": {"caption": "Go", "url": "javascript:alert(1)"}}, ("button", "url")),
        ({"button": {"caption": "x" * 65, "url": "https://a.example"}}, ("button", "caption")),
        ({"button": {"url": "https://a.example"}}, ("button", "caption")),
        ({"image": "ftp://a.example/i.png"}, ("image",)),
        ({"ttl": 0}, ("ttl",)),
    ],
)
def test_bad_viber_payload_is_422_and_writes_nothing(rt, client, shop, viber, field):
    event = viber_event("bad", "+375291234567")
    event["message"]["viber"] = viber
    resp = client.post("/v1/events", json=event, headers=shop["headers"])
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "validation_error"
    node = error["fields"]["message"]["viber"]
    for part in field:
        node = node[part]
    assert node  # the precise field carries its message
    assert messages(rt) == []


def test_failover_to_second_gateway_and_back(rt, client, shop, clock):
    fake_providers.use_providers(rt, shop["id"], ("first", "flaky"), ("second", "recording"))
    rt.providers.health.threshold, rt.providers.health.cooldown = 2, 1
    ids = []
    for i in range(3):
        ids += [
            m["id"]
            for m in client.post(
                "/v1/events",
                headers=shop["headers"],
                json={
                    "event_id": f"f{i}",
                    "type": "message.requested",
                    "occurred_at": NOON,
                    "customer": {"phone": f"+37529123456{i}"},
                    "message": {"text": "Заказ готов"},
                },
            ).get_json()["messages"]
        ]
    deliver(rt, ids)  # all three fail on `first`; two failures mark it down
    assert len(fake_providers.SENT["first"]) == 3
    clock.advance(minutes=5)
    report = deliver(rt, ids)
    assert report.sent == 3
    assert {m.provider for m in messages(rt)} == {"second"}
    time.sleep(1.2)  # the cool-down passes: the preferred gateway is tried again
    with rt.session() as s:
        assert rt.providers.pick(s, shop["id"], "sms").name == "first"


def test_throttled_messages_wait_and_are_not_dropped(rt, client, clock):
    tenant = make_tenant(
        rt, "slow-shop", "BY", settings={"rate": "2 per minute", "transactional_quiet_hours": False}
    )
    ids = []
    for i in range(5):
        ids += [
            m["id"]
            for m in client.post(
                "/v1/events",
                headers=tenant["headers"],
                json={
                    "event_id": f"t{i}",
                    "type": "message.requested",
                    "occurred_at": NOON,
                    "customer": {"phone": f"+37529765432{i}"},
                    "message": {"text": "Hi"},
                },
            ).get_json()["messages"]
        ]
    report = deliver(rt, ids)
    assert (report.sent, report.retried) == (2, 3)
    statuses = sorted((m.status, m.reason) for m in messages(rt))
    assert statuses == [("delivered", None)] * 2 + [("queued", "throttled")] * 3
    assert all(m.attempts == 0 for m in messages(rt) if m.status == "queued")


def test_preview_cost_agrees_with_the_sent_message(rt, client, shop):
    text = "Заказ №727 принят, сумма 29.35 BYN. Спасибо, что выбрали наш магазин! " * 2
    preview = client.post(
        "/v1/messages/preview",
        headers=shop["headers"],
        json={"text": text, "channel": "sms", "phone": "+375 33 123-45-67"},
    ).get_json()
    [msg] = client.post(
        "/v1/events",
        headers=shop["headers"],
        json={
            "event_id": "cost",
            "type": "message.requested",
            "occurred_at": NOON,
            "customer": {"phone": "+375331234567"},
            "message": {"text": text},
        },
    ).get_json()["messages"]
    run_worker(rt)
    detail = client.get(f"/v1/messages/{msg['id']}", headers=shop["headers"]).get_json()
    assert detail["status"] == "delivered"
    assert (detail["segments"], detail["encoding"]) == (preview["segments"], preview["encoding"])
    assert preview["segments"] == 3
    assert Decimal(detail["cost"]) == Decimal(preview["cost"]) == Decimal("18.30")  # 3 × 6.10


def test_receipts_twice_early_unknown_and_forged(rt, client, shop):
    tokens = fake_providers.use_providers(rt, shop["id"], ("gw", "recording"))
    [msg] = client.post(
        "/v1/events",
        headers=shop["headers"],
        json={
            "event_id": "r",
            "type": "message.requested",
            "occurred_at": NOON,
            "customer": {"phone": "+375291234567"},
            "message": {"text": "Hi"},
        },
    ).get_json()["messages"]
    url = f"/callbacks/gw/{tokens['gw']}/dlr"
    # a receipt before the send result is recorded (the message is still queued): accepted
    assert client.post(url, json={"id": msg["id"], "status": "delivered"}).status_code == 200
    run_worker(rt)  # the send result must not move it back to `sent`
    assert client.post(url, json={"id": msg["id"], "status": "delivered"}).status_code == 200
    assert client.post(url, json={"id": "nope", "status": "delivered"}).status_code == 200
    forged = client.post(
        f"/callbacks/gw/{'0' * 32}/dlr", json={"id": msg["id"], "status": "failed"}
    )
    assert (
        forged.status_code == 403 and forged.get_json()["error"]["code"] == "invalid_callback_token"
    )
    bad = client.post(url, json={"id": msg["id"], "status": "weird"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_receipt"
    detail = client.get(f"/v1/messages/{msg['id']}", headers=shop["headers"]).get_json()
    assert detail["status"] == "delivered"
    assert [h["status"] for h in detail["history"]].count("delivered") == 1


def test_gateway_rate_limit_is_shared_and_validated(rt, client, shop):
    from sqlalchemy import delete

    from relay.errors import RelayError
    from relay.gateways.provider_admin import save_provider
    from relay.storage.models import Provider as ProviderRow
    from relay.storage.models import TenantProvider

    with rt.session() as s:
        with pytest.raises(RelayError) as bad:
            save_provider(s, "slow", "recording", {"rate": "fast please"}, rt.secrets)
        assert bad.value.code == "invalid_provider_config"
        out = save_provider(s, "slow", "recording", {"rate": "1 per minute"}, rt.secrets)
        assert out["config"] == {"rate": "1 per minute"}
        s.execute(delete(TenantProvider).where(TenantProvider.tenant_id == shop["id"]))
        pid = s.scalar(select(ProviderRow.id).where(ProviderRow.name == "slow"))
        s.add(TenantProvider(tenant_id=shop["id"], provider_id=pid, position=0))
        s.commit()
    ids = [
        client.post(
            "/v1/events",
            headers=shop["headers"],
            json={
                "event_id": f"g{i}",
                "type": "message.requested",
                "occurred_at": NOON,
                "customer": {"phone": f"+37529111111{i}"},
                "message": {"text": "Hi"},
            },
        ).get_json()["messages"][0]["id"]
        for i in range(3)
    ]
    report = deliver(rt, ids)
    assert (report.sent, report.retried) == (1, 2)
    assert len(fake_providers.SENT["slow"]) == 1


def test_the_rate_slot_is_taken_for_each_send_just_before_it_goes(rt, client, shop, monkeypatch):
    from relay.gateways.provider_admin import save_provider
    from relay.storage.models import Provider as ProviderRow
    from relay.storage.models import TenantProvider

    with rt.session() as s:
        save_provider(s, "paced", "recording", {"rate": "3/second"}, rt.secrets)
        s.execute(delete(TenantProvider).where(TenantProvider.tenant_id == shop["id"]))
        pid = s.scalar(select(ProviderRow.id).where(ProviderRow.name == "paced"))
        s.add(TenantProvider(tenant_id=shop["id"], provider_id=pid, position=0))
        s.commit()
    key = "relay:rate:provider:paced"

    def redis_now() -> float:
        seconds, micros = rt.redis.time()
        return seconds + micros / 1e6

    in_flight: list[int] = []
    send = fake_providers.RecordingProvider._send

    def counting(self, msg):  # type: ignore[no-untyped-def]
        now = redis_now()
        in_flight.append(
            sum(1 for _, at in rt.redis.zrange(key, 0, -1, withscores=True) if at > now)
        )
        return send(self, msg)

    monkeypatch.setattr(fake_providers.RecordingProvider, "_send", counting)
    ids = [
        client.post(
            "/v1/events",
            headers=shop["headers"],
            json={
                "event_id": f"p{i}",
                "type": "message.requested",
                "occurred_at": NOON,
                "customer": {"phone": f"+37529222222{i}"},
                "message": {"text": "Hi"},
            },
        ).get_json()["messages"][0]["id"]
        for i in range(5)
    ]
    report = deliver(rt, ids)
    assert (report.sent, report.retried) == (3, 2)
    # each call found its own slot taken and in flight, and no other: not the batch's at once
    assert in_flight == [1, 1, 1]
    # once answered, each send counts from when it ended; nothing is left in flight
    ended = [at for _, at in rt.redis.zrange(key, 0, -1, withscores=True)]
    assert len(ended) == 3 and all(at <= redis_now() for at in ended)
