"""Replies through real Kannel: a subscriber's СТОП stop-lists the number and blocks the next
promotion; a reply "8" to a survey shows up in the survey's report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from relay.content.flowdefs import load_flows
from relay.storage.models import InboundMessage, StopEntry, Tenant
from relay.tenancy.tenants import find_tenant
from tests.relay.providers import test_kannel_roundtrip as roundtrip
from tests.relay.providers.test_kannel_roundtrip import Gateway, wait_for
from tests.support.factories import run_worker

pytestmark = pytest.mark.kannel
gateway = roundtrip.gateway  # the relay on a real port with real Kannel in front
PHONE = "+375291234567"


def no_quiet_hours(rt, tenant_id: str) -> None:  # type: ignore[no-untyped-def]
    """The test runs on the wall clock: no quiet hours, so it passes at any hour."""
    with rt.session() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "quiet_hours": {"start": "00:00", "end": "00:00"}}
        s.commit()


def post(gw: Gateway, body: dict) -> list[dict]:  # type: ignore[type-arg]
    resp = gw.client.post(
        "/v1/events",
        headers=gw.tenant["headers"],
        json={"occurred_at": datetime.now(UTC).isoformat(), "customer": {"phone": PHONE}, **body},
    )
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["messages"]


def inbound_count(rt) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return len(s.scalars(select(InboundMessage)).all())


def test_stop_through_kannel_blocks_the_next_promotion(rt, gateway):
    gw = gateway("BY")
    no_quiet_hours(rt, gw.tenant["id"])
    post(
        gw,
        {
            "event_id": "c",
            "type": "consent.granted",
            "consent": {
                "granted": True,
                "source": "checkout_checkbox",
                "wording": "Согласен получать SMS",
            },
        },
    )
    [first] = post(
        gw,
        {
            "event_id": "p1",
            "type": "message.requested",
            "message": {"text": "Скидка 10% до пятницы", "category": "marketing"},
        },
    )
    assert first["status"] == "queued"
    run_worker(rt)
    assert gw.kannel.read_line().text().startswith("Скидка 10% до пятницы")

    gw.kannel.send_mo(PHONE, "79001234567", "СТОП")  # the subscriber answers on the handset
    wait_for(lambda: inbound_count(rt) == 1, "the MO reaching the relay", gw)
    run_worker(rt)  # the reply is handled: stop-list, consent revoked, one confirmation
    confirmation = gw.kannel.read_line()
    assert confirmation.receiver == PHONE
    assert confirmation.text().startswith("Вы отписались")
    with rt.session() as s:
        [entry] = s.scalars(select(StopEntry)).all()
        assert (entry.phone, entry.source) == (PHONE, "keyword")
        [row] = s.scalars(select(InboundMessage)).all()
        assert (row.handled_as, row.routing, row.tenant_id) == (
            "opt_out",
            "last_sender",
            gw.tenant["id"],
        )

    [second] = post(
        gw,
        {
            "event_id": "p2",
            "type": "message.requested",
            "message": {"text": "Скидка 20% только сегодня", "category": "marketing"},
        },
    )
    assert (second["status"], second["reason"]) == ("blocked", "stop_list")
    run_worker(rt)
    gw.kannel.assert_no_line(1.0)


def test_survey_reply_through_kannel_is_in_the_report(rt, gateway):
    gw = gateway("BY")
    no_quiet_hours(rt, gw.tenant["id"])
    created = gw.client.post(
        "/v1/surveys", headers=gw.tenant["headers"], json={"name": "nps", "window_hours": 72}
    )
    assert created.status_code == 201
    with rt.session() as s:
        load_flows(
            s,
            find_tenant(s, gw.tenant["id"]),
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
                        "name": "nps",
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
    post(
        gw,
        {
            "event_id": "done",
            "type": "order.status_changed",
            "order": {"id": "727", "status": "completed"},
        },
    )
    run_worker(rt)
    from relay.storage.models import Message

    with rt.session() as s:
        # the default "order completed" flow is blocked: this event has no order number
        rows = s.scalars(select(Message)).all()
        planned = len([m for m in rows if m.status not in ("blocked", "cancelled")])
    texts = {gw.kannel.read_line().text() for _ in range(planned)}
    assert "Оцените нас от 0 до 10" in texts
    wait_for(lambda: gw.client.get("/v1/inbound", headers=gw.tenant["headers"]) and True, "api", gw)

    # the survey message must be `sent` or `delivered` before the answer is matched to it
    def survey_out() -> bool:
        with rt.session() as s:
            statuses = s.scalars(
                select(Message.status).where(Message.status.not_in(("blocked", "cancelled")))
            ).all()
            return len(statuses) == planned and set(statuses) <= {"sent", "delivered"}

    wait_for(survey_out, "the survey message leaving", gw)
    gw.kannel.send_mo(PHONE, "79001234567", "8")
    wait_for(lambda: inbound_count(rt) == 1, "the MO reaching the relay", gw)
    run_worker(rt)
    report = gw.client.get(
        f"/v1/surveys/{created.get_json()['id']}/report", headers=gw.tenant["headers"]
    ).get_json()
    assert (report["responses"], report["passives"], report["nps"]) == (1, 1, 0)
    assert report["answers"][0]["score"] == 8 and report["answers"][0]["phone"] == PHONE
