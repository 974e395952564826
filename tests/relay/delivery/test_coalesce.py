"""Event traffic is coalesced: one drain job per burst of events, batches off the pending list,
and nothing stranded when Redis forgets the job (docs/architecture.md, "Delivery")."""

from __future__ import annotations

from collections import Counter

from rq import Queue
from sqlalchemy import select

from relay.delivery.delivery import drain
from relay.delivery.sweeper import sweep
from relay.storage.models import Message
from tests.support.factories import order_event, run_worker, sandbox_sends

NOON = "2026-01-15T15:00:00+03:00"


def post_events(client, tenant, n: int, prefix: str = "e") -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        event = order_event(f"{prefix}{i}", f"+375291{i:04d}10", "processing", NOON)
        resp = client.post("/v1/events", json=event, headers=tenant["headers"])
        assert resp.status_code == 202, resp.get_json()
        [msg] = resp.get_json()["messages"]
        assert msg["status"] == "queued"
        ids.append(msg["id"])
    return ids


def statuses(rt, ids: list[str]) -> Counter[str]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return Counter(s.scalars(select(Message.status).where(Message.id.in_(ids))).all())


def queued_jobs(rt) -> list[str]:  # type: ignore[no-untyped-def]
    return [j.func_name for j in Queue(rt.config["QUEUE_NAME"], connection=rt.redis).get_jobs()]


def test_many_events_make_one_drain_job_that_sends_them_all(rt, client, tenant):
    ids = post_events(client, tenant, 30)
    assert queued_jobs(rt) == ["relay.jobs.drain"]  # not one job per event
    assert rt.dispatcher.pending() == 30
    run_worker(rt)
    assert statuses(rt, ids) == Counter({"delivered": 30})
    assert sorted(s["message_id"] for s in sandbox_sends(rt)) == sorted(ids)  # each once
    assert rt.dispatcher.pending() == 0


def test_a_drain_takes_batches_and_asks_for_help_with_a_long_list(rt, client, tenant):
    rt.dispatcher.batch_size = 4
    ids = post_events(client, tenant, 10)
    rt.redis.delete(*rt.redis.keys("rq:*"))  # run the drain here, not in a worker
    report = drain(rt)
    assert report.sent == 10  # 4 + 4 + 2, looping while the list was not empty
    # after the first take 6 were left: one more job was armed for an idle worker
    assert queued_jobs(rt) == ["relay.jobs.drain"]
    run_worker(rt)  # finds an empty list
    assert statuses(rt, ids) == Counter({"delivered": 10})
    assert len(sandbox_sends(rt)) == 10


def test_an_event_after_the_drain_started_arms_a_new_job(rt, client, tenant):
    first = post_events(client, tenant, 3, "a")
    rt.redis.delete(*rt.redis.keys("rq:*"))
    rt.dispatcher.disarm()  # as a drain job does when it starts
    second = post_events(client, tenant, 2, "b")
    assert queued_jobs(rt) == ["relay.jobs.drain"]
    run_worker(rt)
    assert statuses(rt, first + second) == Counter({"delivered": 5})


def test_lost_drain_job_is_rearmed_by_the_sweeper(rt, client, tenant):
    ids = post_events(client, tenant, 5)
    rt.redis.delete(*rt.redis.keys("rq:*"))  # the job is gone, the flag and the list stay
    run_worker(rt)
    assert statuses(rt, ids) == Counter({"queued": 5})
    rt.redis.delete(rt.dispatcher.armed_key)  # ARM_SECONDS later the flag has expired
    sweep(rt)  # the list waits and no job is armed: the sweeper arms one, before any grace
    assert queued_jobs(rt) == ["relay.jobs.drain"]
    run_worker(rt)
    assert statuses(rt, ids) == Counter({"delivered": 5})


def test_redis_losing_everything_strands_nothing(rt, client, tenant, clock):
    ids = post_events(client, tenant, 5)
    rt.redis.flushdb()  # the list, the flag and the job
    clock.advance(minutes=2)  # past the sweeper's grace
    sweep(rt)
    run_worker(rt)
    assert statuses(rt, ids) == Counter({"delivered": 5})
    assert len(sandbox_sends(rt)) == 5


def test_coalescing_off_makes_a_job_per_commit(rt, client, tenant):
    rt.dispatcher.coalesce = False
    ids = post_events(client, tenant, 3)
    assert queued_jobs(rt) == ["relay.jobs.deliver"] * 3
    run_worker(rt)
    assert statuses(rt, ids) == Counter({"delivered": 3})
