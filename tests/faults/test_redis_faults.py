"""Redis down at intake, and Redis restarted empty mid-run: every message is still sent
exactly once, because the database is the truth and the sweeper re-enqueues what it says is
due (docs/security.md, 'Faults: outages, killed workers, gateways')."""

from __future__ import annotations

from collections import Counter

from redis import Redis
from sqlalchemy import select

from relay.delivery.queue import Dispatcher
from relay.delivery.sweeper import sweep
from relay.storage.models import Message
from tests.support.factories import order_event, run_worker, sandbox_sends

AT = "2026-01-15T12:00:00+00:00"
PHONE = "+375291234567"


def statuses(rt) -> Counter[str]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return Counter(s.scalars(select(Message.status)).all())


def sent_counts(rt) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(send["message_id"] for send in sandbox_sends(rt))


def test_redis_down_at_intake_answers_202_commits_and_the_message_is_sent_once_later(
    rt, client, tenant, clock
):
    h = tenant["headers"]
    assert client.post("/v1/events", headers=h, json=order_event("warm", PHONE, "processing", AT))
    live_redis, live_dispatcher = rt.redis, rt.dispatcher
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    rt.redis, rt.dispatcher = dead, Dispatcher(dead)
    try:
        resp = client.post(
            "/v1/events", headers=h, json=order_event("e-1", PHONE, "processing", AT)
        )
    finally:
        rt.redis, rt.dispatcher = live_redis, live_dispatcher
    assert resp.status_code == 202, resp.get_json()
    [msg] = resp.get_json()["messages"]
    assert msg["status"] == "queued"  # committed, though its job never reached the queue
    run_worker(rt)
    clock.advance(minutes=2)  # past the sweeper's grace: nobody claimed it
    assert sweep(rt).requeued >= 1
    run_worker(rt)
    sweep(rt)
    run_worker(rt)
    counts = sent_counts(rt)
    print(
        "\nRedis down at intake:",
        {
            "in": 2,
            "sent": sum(counts.values()),
            "lost": 2 - len(counts),
            "duplicated": sum(n - 1 for n in counts.values()),
        },
    )
    assert counts[msg["id"]] == 1
    assert len(counts) == 2 and set(counts.values()) == {1}


def test_redis_restarted_empty_mid_run_every_message_is_still_sent_exactly_once(
    rt, client, tenant, clock
):
    h = tenant["headers"]
    ids = []
    for n in range(30):
        resp = client.post(
            "/v1/events", headers=h, json=order_event(f"e-{n}", PHONE, "processing", AT)
        )
        assert resp.status_code == 202
        ids += [m["id"] for m in resp.get_json()["messages"]]
        if n == 9:
            run_worker(rt)  # the first ten go out before the restart
    # the sandbox records its sends in Redis too: keep what it recorded before the restart
    before = sent_counts(rt)
    assert len(before) == 10
    rt.redis.flushdb()  # Redis restarted empty: the queued jobs of the other twenty are gone
    run_worker(rt)
    assert sent_counts(rt) == Counter()
    clock.advance(minutes=2)
    assert sweep(rt).requeued == 20
    run_worker(rt)
    clock.advance(minutes=2)
    sweep(rt)  # a second sweep finds nothing due: no second send
    run_worker(rt)
    counts = before + sent_counts(rt)
    print(
        "\nRedis restarted empty:",
        {
            "in": 30,
            "sent": sum(counts.values()),
            "lost": len(set(ids) - set(counts)),
            "duplicated": sum(n - 1 for n in counts.values()),
        },
    )
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    assert statuses(rt)["queued"] == 0
