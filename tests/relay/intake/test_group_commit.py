"""Events submitted together share one transaction and get the answers they get one at a time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from relay.errors import RelayError
from relay.intake.group_commit import GroupCommit
from relay.intake.intake import IntakeResult, Submission, submit_event, submit_events
from relay.storage.models import ConsentRecord, Event, Message, Tenant
from tests.support.factories import order_event

NOON = "2026-01-15T15:00:00+03:00"  # 12:00 UTC, 15:00 in Minsk: no quiet hours
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _tenant(rt: Any, tenant: dict[str, Any]) -> Tenant:
    with rt.session() as s:
        row = s.get(Tenant, tenant["id"])
        s.expunge(row)
        return row  # type: ignore[no-any-return]


def _requested(event_id: str, phone: str, category: str = "transactional") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "message.requested",
        "occurred_at": NOON,
        "customer": {"phone": phone},
        "message": {"text": "Скидка 10% на чай. Отписка: STOP", "channel": "sms",
                    "category": category},
    }  # fmt: skip


def _consent(event_id: str, phone: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "consent.granted",
        "occurred_at": NOON,
        "customer": {"phone": phone},
        "consent": {"purpose": "marketing", "channel": "sms", "granted": True,
                    "source": "checkout_checkbox", "wording": "Согласен получать SMS"},
    }  # fmt: skip


def _count(rt: Any, model: Any) -> int:
    with rt.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_answers_each_event_as_alone_and_a_bad_one_writes_nothing(rt, tenant):
    t = _tenant(rt, tenant)
    with rt.session() as s:
        first = submit_event(s, t, order_event("seen", "+375291234567", "processing", NOON), NOW)
        s.commit()
    with rt.session() as s:
        answers = submit_events(
            s,
            [
                Submission(t, order_event("a", "+375291234568", "processing", NOON)),
                Submission(t, order_event("seen", "+375291234567", "completed", NOON)),
                Submission(t, {"event_id": "bad", "type": "order.status_changed"}),
                Submission(t, order_event("seen", "+375291234567", "processing", NOON)),
                Submission(t, order_event("b", "+375 29 123-45-69", "processing", NOON)),
            ],
            NOW,
        )
        s.commit()
    fresh_a, conflict, invalid, repeat, fresh_b = answers
    assert isinstance(fresh_a, IntakeResult) and isinstance(fresh_b, IntakeResult)
    assert (fresh_a.status, fresh_b.status) == (202, 202)
    assert [m["status"] for m in fresh_a.body["messages"] + fresh_b.body["messages"]] == [
        "queued",
        "queued",
    ]
    assert isinstance(conflict, RelayError) and conflict.code == "event_id_conflict"
    assert isinstance(invalid, RelayError) and invalid.status == 422
    assert isinstance(repeat, IntakeResult) and repeat.status == 200
    assert repeat.body["messages"] == first.body["messages"]
    assert _count(rt, Event) == 3 and _count(rt, Message) == 3


def test_consent_in_a_batch_counts_only_for_the_events_after_it(rt, tenant):
    t = _tenant(rt, tenant)
    with rt.session() as s:
        before, consent, after = submit_events(
            s,
            [
                Submission(t, _requested("m1", "+375291234567", "marketing")),
                Submission(t, _consent("c1", "+375291234567")),
                Submission(t, _requested("m2", "+375291234567", "marketing")),
            ],
            NOW,
        )
        s.commit()
    assert isinstance(before, IntakeResult) and isinstance(after, IntakeResult)
    assert isinstance(consent, IntakeResult) and consent.status == 202
    [blocked] = before.body["messages"]
    [allowed] = after.body["messages"]
    assert (blocked["status"], blocked["reason"]) == ("blocked", "no_consent")
    assert allowed["status"] == "queued" and allowed["reason"] is None
    assert _count(rt, ConsentRecord) == 1


def test_requests_waiting_together_share_one_commit(rt, tenant):
    t = _tenant(rt, tenant)
    calls = {"n": 0}

    def sessions() -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # the first request's commit is slow: the others queue behind it
            deadline = time.monotonic() + 10
            while len(group._queue) < 7 and time.monotonic() < deadline:
                time.sleep(0.01)
        return rt.session()

    group = GroupCommit(sessions, lambda: NOW)
    answers: dict[int, Any] = {}

    def post(n: int) -> None:
        wire = order_event(f"t{n}", f"+3752912345{n:02d}", "processing", NOON)
        if n == 5:
            wire = order_event("t5", "not a phone", "processing", NOON)
        try:
            answers[n] = group.submit(t, wire)
        except RelayError as exc:
            answers[n] = exc

    threads = [threading.Thread(target=post, args=(0,))]
    threads[0].start()
    while calls["n"] == 0:
        time.sleep(0.005)
    threads += [threading.Thread(target=post, args=(n,)) for n in range(1, 8)]
    for th in threads[1:]:
        th.start()
    for th in threads:
        th.join(20)
    assert group.batches == 1  # the seven that waited: one transaction
    assert isinstance(answers[5], RelayError) and answers[5].status == 422
    ok = [answers[n] for n in range(8) if n != 5]
    assert all(isinstance(a, IntakeResult) and a.status == 202 for a in ok)
    assert _count(rt, Event) == 7 and _count(rt, Message) == 7


def test_a_leader_waits_briefly_for_a_request_on_its_way_in(rt, tenant):
    t = _tenant(rt, tenant)
    group = GroupCommit(rt.session, lambda: NOW, gather_seconds=10.0)
    group.arriving()  # another request is passing its checks
    answers: dict[str, Any] = {}
    first = threading.Thread(
        target=lambda: answers.update(a=group.submit(t, _requested("g1", "+375291234561")))
    )
    first.start()
    time.sleep(0.2)
    assert "a" not in answers  # the leader is waiting for the request on its way in
    answers["b"] = group.submit(t, _requested("g2", "+375291234562"), counted=True)
    first.join(10)
    assert answers["a"].status == answers["b"].status == 202
    assert group.batches == 1 and _count(rt, Event) == 2


def test_a_request_that_left_or_none_on_its_way_does_not_hold_the_leader(rt, tenant):
    t = _tenant(rt, tenant)
    group = GroupCommit(rt.session, lambda: NOW, gather_seconds=10.0)
    started = time.monotonic()
    assert group.submit(t, _requested("l1", "+375291234561")).status == 202  # alone: at once
    assert time.monotonic() - started < 5
    group.arriving()
    done = threading.Event()
    threading.Thread(
        target=lambda: (group.submit(t, _requested("l2", "+375291234562")), done.set())
    ).start()
    time.sleep(0.2)
    assert not done.is_set()
    group.left()  # refused before it submitted: the leader stops waiting for it
    assert done.wait(5)
    assert group.batches == 0 and _count(rt, Event) == 2


def test_requests_that_fail_their_checks_are_not_waited_for(client, app, tenant):
    group = app.extensions["relay.intake.group_commit"]
    wire = _requested("h1", "+375291234561")
    assert client.post("/v1/events", json=wire).status_code == 401
    assert client.post("/v1/events", data=b"{", headers=tenant["headers"]).status_code == 400
    assert client.post("/v1/events", json=wire, headers=tenant["headers"]).status_code == 202
    assert group._arriving == 0
