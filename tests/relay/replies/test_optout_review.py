"""Opt-out in people's own words, end to end through the API: a recognised opt-out acts like
STOP; an unsure reply is queued for review and holds marketing (not transactional messages)
until a person decides; bad input never errs and never changes the stop-list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.storage.models import ConsentRecord, InboundMessage, StopEntry
from tests.support.factories import run_worker

PHONE = "+375291234567"
NOON = "2026-01-15T12:00:00+03:00"


def reply(client, tenant, text):  # type: ignore[no-untyped-def]
    resp = client.post(
        "/v1/sandbox/inbound", headers=tenant["headers"], json={"from": PHONE, "text": text}
    )
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["id"]


def explain(client, tenant, category):  # type: ignore[no-untyped-def]
    resp = client.post(
        "/v1/policy/explain",
        headers=tenant["headers"],
        json={"phone": PHONE, "category": category, "channel": "sms", "at": NOON},
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def grant(client, tenant):  # type: ignore[no-untyped-def]
    resp = client.post(
        "/v1/consents",
        headers=tenant["headers"],
        json={"phone": PHONE, "granted": True, "source": "checkout_checkbox", "wording": "Да"},
    )
    assert resp.status_code == 201


def stops(rt, tenant):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return sorted(
            (e.source, e.channel)
            for e in s.scalars(select(StopEntry).where(StopEntry.tenant_id == tenant["id"]))
        )


def handled(rt, inbound_id):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.get(InboundMessage, inbound_id).handled_as


@pytest.mark.parametrize(
    "text", ["хватит спамить", "Удалите мой номер из рассылки", "Remove me from your list"]
)
def test_an_opt_out_in_own_words_acts_like_stop(rt, client, tenant, text):
    grant(client, tenant)
    inbound_id = reply(client, tenant, text)
    run_worker(rt)
    assert handled(rt, inbound_id) == "opt_out"
    assert stops(rt, tenant) == [("keyword", "sms")]
    assert explain(client, tenant, "marketing")["decision"] == "block"
    with rt.session() as s:
        revoked = s.scalars(select(ConsentRecord).where(ConsentRecord.granted.is_(False))).all()
        assert [r.wording for r in revoked] == [text]


def test_unsure_reply_is_queued_and_holds_marketing_until_someone_decides(rt, client, tenant):
    grant(client, tenant)
    inbound_id = reply(client, tenant, "это спам")
    run_worker(rt)
    assert handled(rt, inbound_id) == "optout_review"
    assert stops(rt, tenant) == [("review", "all")]
    held = explain(client, tenant, "marketing")
    assert held["decision"] == "block" and held["reasons"][0]["code"] == "stop_list"
    assert "opt-out review" in held["reasons"][0]["detail"]
    assert explain(client, tenant, "transactional")["decision"] == "send"

    h = tenant["headers"]
    [review] = client.get("/v1/optout-reviews?status=pending", headers=h).get_json()["items"]
    assert review["text"] == "это спам" and review["phone"] == PHONE
    # not an opt-out: the hold goes, the grant stands, marketing may go again
    resp = client.post(
        f"/v1/optout-reviews/{review['id']}/decision", headers=h, json={"opt_out": False}
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "not_opt_out"
    assert stops(rt, tenant) == []
    assert explain(client, tenant, "marketing")["decision"] == "send"
    again = client.post(
        f"/v1/optout-reviews/{review['id']}/decision", headers=h, json={"opt_out": True}
    )
    assert again.status_code == 409
    assert client.get("/v1/optout-reviews?status=pending", headers=h).get_json()["items"] == []
    actions = [a["action"] for a in client.get("/v1/audit", headers=h).get_json()["items"]]
    assert "optout_review.decide" in actions


def test_a_review_decided_as_opt_out_stops_and_revokes(rt, client, tenant):
    grant(client, tenant)
    reply(client, tenant, "спам")
    run_worker(rt)
    h = tenant["headers"]
    [review] = client.get("/v1/optout-reviews", headers=h).get_json()["items"]
    resp = client.post(
        f"/v1/optout-reviews/{review['id']}/decision",
        headers=h,
        json={"opt_out": True, "note": "жалоба на спам"},
    )
    assert resp.status_code == 200 and resp.get_json()["decided_by"]
    assert stops(rt, tenant) == [("keyword", "all")]
    assert explain(client, tenant, "marketing")["reasons"][0]["code"] == "stop_list"
    # the history of the stop-list keeps the hold that came and went
    with rt.session() as s:
        from relay.storage.models import StopChange

        history = [
            (c.action, c.source) for c in s.scalars(select(StopChange).order_by(StopChange.id))
        ]
    assert history == [("add", "review"), ("remove", "review"), ("add", "keyword")]


def test_review_routes_refuse_bad_input(client, tenant):
    h = tenant["headers"]
    assert client.get("/v1/optout-reviews/999", headers=h).status_code == 404
    assert client.post("/v1/optout-reviews/999/decision", headers=h, json={}).status_code == 404
    assert client.get("/v1/optout-reviews?status=maybe", headers=h).status_code == 400


@pytest.mark.parametrize(
    "text",
    [
        "🙂🙂🙂",
        "a" * 1600,
        "Привет, " * 200,
        "中文",
        "\x00\x00привет\x00",
        "\ufffd\ufffd\ufffd",
        "Стоп, а где мой заказ?",
        "Отмените заказ",
        "stop by our store",
        "не отписывайте",
    ],
)
def test_bad_input_and_lookalikes_never_err_and_never_touch_the_stop_list(rt, client, tenant, text):
    inbound_id = reply(client, tenant, text)
    run_worker(rt)
    assert handled(rt, inbound_id) in ("reply", "empty")
    assert stops(rt, tenant) == []


def test_a_stop_wrapped_in_nul_bytes_is_still_recognised(rt, client, tenant):
    inbound_id = reply(client, tenant, "\x00STOP\x00")
    run_worker(rt)
    assert handled(rt, inbound_id) == "opt_out"
    assert stops(rt, tenant) == [("keyword", "sms")]


def test_invalid_utf8_from_a_gateway_is_an_ordinary_reply(rt, client, tenant):
    # a gateway posting form data in a broken encoding: decoded with replacement, never a 500
    from relay.providers.base import Inbound
    from relay.replies.inbound import store_inbound

    text = b"\xff\xfe\xfa \xd0\xbf\xd1".decode("utf-8", "replace")
    with rt.session() as s:
        [row] = store_inbound(
            s,
            "sandbox",
            [Inbound(sender=PHONE, recipient="x", text=text, provider_ref="bad-utf8")],
            rt.now(),
        )
        row.tenant_id, row.routing = tenant["id"], "sandbox"
        s.commit()
        inbound_id = row.id
    run_worker(rt)
    assert handled(rt, inbound_id) == "reply"
    assert stops(rt, tenant) == []


def test_raw_invalid_utf8_and_nul_bytes_over_http_never_answer_500(rt, client, tenant):
    h = {**tenant["headers"], "Content-Type": "application/json"}
    broken = b'{"from": "+375291234567", "text": "\xff\xfe\xfd stop"}'
    resp = client.post("/v1/sandbox/inbound", headers=h, data=broken)
    assert 400 <= resp.status_code < 500 and resp.is_json
    nul = client.post(
        "/v1/sandbox/inbound",
        headers=tenant["headers"],
        json={"from": PHONE, "text": "\u0000\u0000 " + "🙂" * 500},
    )
    assert nul.status_code == 202
    run_worker(rt)
    assert handled(rt, nul.get_json()["id"]) == "reply" and stops(rt, tenant) == []
