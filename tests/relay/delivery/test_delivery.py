"""Delivery re-decides at send time, claims before sending and never sends twice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from relay.compliance.stoplist import add_stop
from relay.delivery.delivery import claim, deliver
from relay.delivery.sweeper import sweep
from relay.storage.models import ConsentRecord, Message
from tests.support.factories import order_event, run_worker, sandbox_sends

NOON = "2026-01-15T15:00:00+03:00"


def post(client, tenant, event):  # type: ignore[no-untyped-def]
    resp = client.post("/v1/events", json=event, headers=tenant["headers"])
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["messages"]


def status(rt, mid):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        m = s.get(Message, mid)
        return m.status, m.reason


def test_stop_arriving_between_intake_and_delivery_blocks(rt, client, tenant):
    [msg] = post(client, tenant, order_event("e", "+375291234567", "processing", NOON))
    assert msg["status"] == "queued"
    with rt.session() as s:
        add_stop(s, tenant["id"], "+375291234567", "keyword", rt.now())
        s.commit()
    run_worker(rt)
    assert status(rt, msg["id"]) == ("blocked", "stop_list")
    assert sandbox_sends(rt) == []


def test_consent_revoked_before_send_blocks_marketing(rt, client, tenant, clock):
    h = {"customer": {"phone": "+375291234567"}}
    post(
        client,
        tenant,
        {
            "event_id": "g",
            "type": "consent.granted",
            "occurred_at": NOON,
            **h,
            "consent": {"granted": True, "source": "registration", "wording": "Согласен"},
        },
    )
    [msg] = post(
        client,
        tenant,
        {
            "event_id": "m",
            "type": "message.requested",
            "occurred_at": NOON,
            **h,
            "message": {"text": "Скидка 10% до пятницы", "category": "marketing"},
        },
    )
    assert msg["status"] == "queued"
    clock.advance(seconds=5)
    post(
        client,
        tenant,
        {
            "event_id": "r",
            "type": "consent.revoked",
            "occurred_at": NOON,
            **h,
            "consent": {"granted": False, "source": "registration"},
        },
    )
    run_worker(rt)
    assert status(rt, msg["id"]) == ("blocked", "no_consent")
    assert sandbox_sends(rt) == []
    with rt.session() as s:
        assert [
            r.granted for r in s.scalars(select(ConsentRecord).order_by(ConsentRecord.recorded_at))
        ] == [True, False]


def test_queue_backlog_drifting_into_quiet_hours_defers_again(rt, client, tenant, clock):
    [msg] = post(client, tenant, order_event("late", "+375291234567", "processing", NOON))
    clock.set(datetime(2026, 1, 15, 20, 30, tzinfo=UTC))  # 23:30 in Minsk
    report = deliver(rt, [msg["id"]])
    assert report.deferred == 1
    with rt.session() as s:
        m = s.get(Message, msg["id"])
        assert (m.status, m.reason) == ("scheduled", "quiet_hours")
        assert m.not_before == datetime(2026, 1, 16, 4, 0, tzinfo=UTC)  # 07:00 Minsk
    assert sandbox_sends(rt) == []


def test_claim_is_atomic_and_a_redelivered_job_sends_nothing(rt, client, tenant):
    [msg] = post(client, tenant, order_event("c", "+375291234567", "processing", NOON))
    with rt.session() as s:
        assert [m.id for m in claim(s, [msg["id"]], rt.now())] == [msg["id"]]
        s.commit()
        assert claim(s, [msg["id"]], rt.now()) == []  # the second claimer gets nothing
        s.commit()
    assert deliver(rt, [msg["id"]]).claimed == 0
    assert sandbox_sends(rt) == []


def test_transient_error_retries_with_backoff_then_fails(rt, client, tenant, clock):
    # the sandbox fails numbers ending in 02 transiently
    [msg] = post(client, tenant, order_event("t", "+375291234502", "processing", NOON))
    deliver(rt, [msg["id"]])
    with rt.session() as s:
        m = s.get(Message, msg["id"])
        assert (m.status, m.attempts) == ("queued", 1)
        assert m.not_before == datetime(2026, 1, 15, 12, 0, 30, tzinfo=UTC)
    for _ in range(4):
        clock.advance(minutes=10)  # past each backoff (30 s, 60 s, 2 min, 4 min)
        deliver(rt, [msg["id"]])
    assert status(rt, msg["id"])[0] == "failed"


def test_permanent_error_fails_at_once(rt, client, tenant):
    [msg] = post(client, tenant, order_event("p", "+375291234501", "processing", NOON))
    deliver(rt, [msg["id"]])
    assert status(rt, msg["id"])[0] == "failed"


def test_sweeper_requeues_what_redis_forgot(rt, client, tenant, clock):
    [msg] = post(client, tenant, order_event("s", "+375291234567", "processing", NOON))
    rt.redis.flushdb()  # Redis lost the queue
    run_worker(rt)
    assert status(rt, msg["id"])[0] == "queued"
    # a message put on the queue a moment ago is not put there again: the grace protects a
    # backlog waiting for workers from being enqueued over and over
    clock.advance(seconds=30)
    assert sweep(rt).requeued == 0
    clock.advance(minutes=2)
    assert sweep(rt).requeued == 1
    run_worker(rt)
    assert status(rt, msg["id"])[0] == "delivered"
    assert len(sandbox_sends(rt)) == 1
