"""Replies end to end: keywords through a gateway callback, routing, NPS, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from relay.storage.models import ConsentRecord, InboundMessage, InboundNumber, Message, StopEntry
from tests.support import fake_providers
from tests.support.factories import make_tenant, run_worker

PHONE = "+375291234567"


@pytest.fixture
def shop(rt):  # type: ignore[no-untyped-def]
    fake_providers.register()
    tenant = make_tenant(rt, "shop", "BY")
    tenant["tokens"] = fake_providers.use_providers(rt, tenant["id"], ("gw", "recording"))
    return tenant


def inbound(client, token, text, sender=PHONE, to="SHOP", ref=None):  # type: ignore[no-untyped-def]
    body = {"from": sender, "to": to, "text": text}
    if ref:
        body["id"] = ref
    return client.post(f"/callbacks/gw/{token}/inbound", json=body)


def rows(rt, model, **where):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        stmt = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return s.scalars(stmt).all()


def test_stop_blocks_the_queued_marketing_message_and_confirms_at_night(rt, client, shop, clock):
    h = shop["headers"]
    with rt.session() as s:
        s.add(InboundNumber(tenant_id=shop["id"], number="SHOP"))
        s.commit()
    noon = "2026-01-15T15:00:00+03:00"
    client.post(
        "/v1/events",
        headers=h,
        json={
            "event_id": "c",
            "type": "consent.granted",
            "occurred_at": noon,
            "customer": {"phone": PHONE},
            "consent": {"granted": True, "source": "checkout_checkbox", "wording": "Да"},
        },
    )
    [promo] = client.post(
        "/v1/events",
        headers=h,
        json={
            "event_id": "m",
            "type": "message.requested",
            "occurred_at": noon,
            "customer": {"phone": PHONE},
            "message": {"text": "Скидка 20% на всё", "category": "marketing"},
        },
    ).get_json()["messages"]
    assert promo["status"] == "queued"
    clock.set(datetime(2026, 1, 15, 23, 0, tzinfo=UTC))  # 02:00 in Minsk
    assert inbound(client, shop["tokens"]["gw"], "Стоп").status_code == 200
    run_worker(rt)  # the promotion defers (02:00 local); the STOP is handled
    clock.set(datetime(2026, 1, 16, 4, 5, tzinfo=UTC))  # 07:05 in Minsk: the promotion is due
    from relay.delivery.sweeper import sweep

    assert sweep(rt).requeued == 1
    run_worker(rt)
    with rt.session() as s:
        assert (s.get(Message, promo["id"]).status, s.get(Message, promo["id"]).reason) == (
            "blocked",
            "stop_list",
        )
        [entry] = s.scalars(select(StopEntry)).all()
        assert (entry.phone, entry.source, entry.channel) == (PHONE, "keyword", "sms")
        assert [
            c.granted for c in s.scalars(select(ConsentRecord).order_by(ConsentRecord.recorded_at))
        ] == [True, False]
        [confirmation] = s.scalars(select(Message).where(Message.id != promo["id"])).all()
    assert confirmation.status == "sent" and confirmation.category == "transactional"
    assert confirmation.updated_at == datetime(2026, 1, 15, 23, 0, tzinfo=UTC)  # sent at 02:00
    assert confirmation.text.startswith("Вы отписались")
    assert [m.text for m in fake_providers.SENT["gw"]] == [confirmation.text]
    [row] = rows(rt, InboundMessage)
    assert (row.handled_as, row.routing, row.tenant_id) == (
        "opt_out",
        "dedicated_number",
        shop["id"],
    )


def test_start_lifts_only_what_a_keyword_put_there(rt, client, shop):
    from relay.compliance.stoplist import add_stop

    with rt.session() as s:
        s.add(InboundNumber(tenant_id=shop["id"], number="SHOP"))
        add_stop(s, shop["id"], "+375291111111", "admin", rt.now(), note="asked by phone")
        s.commit()
    token = shop["tokens"]["gw"]
    inbound(client, token, "STOP", sender=PHONE)
    inbound(client, token, "STOP", sender="+375291111111")
    run_worker(rt)
    inbound(client, token, "START", sender=PHONE, ref="s1")
    inbound(client, token, "START", sender="+375291111111", ref="s2")
    run_worker(rt)
    left = {(e.phone, e.source) for e in rows(rt, StopEntry)}
    assert left == {("+375291111111", "admin")}


def test_reply_goes_to_the_tenant_that_sent_last_within_14_days(rt, client, shop, clock):
    other = make_tenant(rt, "other", "BY")
    fake_providers.use_providers(rt, other["id"], ("gw", "recording"))
    tenants = [shop, other]
    for i, tenant in enumerate(tenants):  # shop sends first, other two days later
        client.post(
            "/v1/events",
            headers=tenant["headers"],
            json={
                "event_id": f"s{i}",
                "type": "message.requested",
                "occurred_at": "2026-01-15T15:00:00+03:00",
                "customer": {"phone": PHONE},
                "message": {"text": "Ваш заказ готов"},
            },
        )
        run_worker(rt)
        clock.advance(days=2)
    inbound(client, shop["tokens"]["gw"], "А когда доставка?", ref="r1")
    run_worker(rt)
    clock.advance(days=13)  # 15 days after the last send
    inbound(client, shop["tokens"]["gw"], "Алло?", ref="r2")
    run_worker(rt)
    first, second = sorted(rows(rt, InboundMessage), key=lambda r: r.id)
    assert (first.tenant_id, first.routing, first.handled_as) == (
        other["id"],
        "last_sender",
        "reply",
    )
    assert (second.tenant_id, second.routing, second.handled_as) == (None, "unrouted", "unrouted")


def test_nps_survey_report(rt, client, shop, clock):
    h = shop["headers"]
    created = client.post("/v1/surveys", headers=h, json={"name": "nps", "window_hours": 72})
    assert created.status_code == 201
    report_url = f"/v1/surveys/{created.get_json()['id']}/report"
    from relay.content.flowdefs import load_flows
    from relay.tenancy.tenants import find_tenant

    with rt.session() as s:
        load_flows(
            s,
            find_tenant(s, shop["id"]),
            {
                "templates": [
                    {
                        "name": "ask",
                        "category": "transactional",
                        "sms_text": "Оцените нас от 0 до 10",
                    }
                ],
                "flows": [
                    {
                        "name": "nps-after-completed",
                        "trigger": "order.status_changed",
                        "conditions": {"order.status": "completed"},
                        "template": "ask",
                        "category": "transactional",
                        "survey": "nps",
                    }
                ],
            },
        )
        s.commit()
    replies = ["10", "9, all good", "8", "7", "3", "0", "10"]
    phones = [f"+37529765430{i}" for i in range(len(replies))]
    for i, phone in enumerate(phones):
        client.post(
            "/v1/events",
            headers=h,
            json={
                "event_id": f"o{i}",
                "type": "order.status_changed",
                "occurred_at": "2026-01-15T15:00:00+03:00",
                "customer": {"phone": phone},
                "order": {"id": str(i), "status": "completed"},
            },
        )
    run_worker(rt)
    clock.advance(hours=5)
    for i, (phone, text) in enumerate(zip(phones[:-1], replies[:-1], strict=True)):
        inbound(client, shop["tokens"]["gw"], text, sender=phone, ref=f"a{i}")
    clock.advance(hours=72)  # the last one answers after the window
    inbound(client, shop["tokens"]["gw"], replies[-1], sender=phones[-1], ref="late")
    run_worker(rt)
    listed = client.get("/v1/inbound", headers=h).get_json()["items"]
    assert len(listed) == 7
    assert sorted(r["handled_as"] for r in listed) == ["reply"] + ["survey_answer"] * 6
    report = client.get(report_url, headers=h).get_json()
    assert (report["responses"], report["promoters"], report["passives"], report["detractors"]) == (
        6,
        2,
        2,
        2,
    )
    assert report["nps"] == 0 and report["sent"] == 7
    assert report["response_rate"] == round(6 / 7, 4)
    nine = next(a for a in report["answers"] if a["score"] == 9)
    assert nine["comment"] == "all good"
    csv_text = client.get(report_url + "?format=csv", headers=h).get_data(as_text=True)
    assert "all good" in csv_text and csv_text.startswith("phone,score,comment")
    assert client.get(report_url + "?format=xlsx", headers=h).status_code == 200


def test_bad_inbound_is_recorded_or_rejected_never_a_stop_change(rt, client, shop):
    token = shop["tokens"]["gw"]
    forged = client.post(f"/callbacks/gw/{'0' * 32}/inbound", json={"from": PHONE, "text": "STOP"})
    assert forged.status_code == 403
    assert inbound(client, token, "STOP", sender="not-a-phone").status_code == 200
    assert inbound(client, token, "", ref="e").status_code == 200
    assert inbound(client, token, "[CALL]", ref="c").status_code == 200
    assert inbound(client, token, "x" * 1000 + "\x00\x07", ref="l").status_code == 200
    assert inbound(client, token, "STOP", ref="dup").status_code == 200
    assert inbound(client, token, "STOP", ref="dup").status_code == 200  # gateway retry
    assert client.post(f"/callbacks/gw/{token}/inbound", json={"to": "x"}).status_code == 400
    run_worker(rt)
    handled = {r.text[:10]: r.handled_as for r in rows(rt, InboundMessage)}
    assert handled["STOP"] in ("invalid_sender", "unrouted")
    assert len([r for r in rows(rt, InboundMessage) if r.text == "STOP"]) == 2
    assert rows(rt, StopEntry) == []  # unrouted and invalid senders change nothing
    assert {r.handled_as for r in rows(rt, InboundMessage)} <= {
        "invalid_sender",
        "unrouted",
        "empty",
        "call",
    }
