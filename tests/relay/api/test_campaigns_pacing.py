"""Pacing, launches handed to a worker, recurring runs and greetings, interrupted launches."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

from relay.campaigns import runs as campaign_runs
from relay.campaigns import writer as campaign_writer
from relay.campaigns.pause import PAUSED_UNTIL
from relay.campaigns.runs import run_due_campaigns
from relay.storage.models import Campaign
from tests.relay.api.test_campaigns_fixtures import (
    campaign_body,
    consent,
    make_book,
    messages,
    minutes,
    phone,
    release_scheduled,
    template,
)
from tests.support.factories import run_worker, sandbox_sends


def start(client, tenant, body):  # type: ignore[no-untyped-def]
    made = client.post("/v1/campaigns", json=body, headers=tenant["headers"])
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    resp = client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"])
    assert resp.status_code in (200, 202), resp.get_json()
    return cid, resp


def test_campaign_paces_at_configured_rate(rt, client, tenant, clock):
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 320)
    consent(rt, tenant["id"], [phone(i) for i in range(300)])  # 20 have no consent
    t0 = clock.now  # 15:00 in Minsk: daytime, no quiet hours ahead of the three slots
    cid, _ = start(client, tenant, campaign_body(book, pace={"count": 100, "minutes": 10}))

    rows = messages(rt, cid)
    accepted = [m for m in rows if m.status != "blocked"]
    assert Counter(m.reason for m in rows if m.status == "blocked") == {"no_consent": 20}
    slots = Counter(m.not_before for m in accepted)
    assert slots == {t0: 100, t0 + minutes(10): 100, t0 + minutes(20): 100}
    assert {m.status for m in accepted if m.not_before == t0} == {"queued"}
    assert {m.status for m in accepted if m.not_before > t0} == {"scheduled"}

    def sent() -> int:
        return len(sandbox_sends(rt))

    run_worker(rt)  # only the slot that is due goes
    assert sent() == 100
    clock.advance(minutes=9, seconds=59)
    release_scheduled(rt)
    run_worker(rt)
    assert sent() == 100  # a second early: nothing
    clock.advance(seconds=1)
    assert release_scheduled(rt) >= 1
    run_worker(rt)
    assert sent() == 200
    clock.advance(minutes=10)
    release_scheduled(rt)
    run_worker(rt)
    assert sent() == 300
    assert sorted(s["phone"] for s in sandbox_sends(rt)) == sorted(phone(i) for i in range(300))
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=tenant["headers"]).get_json()
    assert (progress["sent"], progress["remaining"], progress["complete"]) == (300, 0, True)
    assert run_due_campaigns(rt).finished == [cid]
    with rt.session() as s:
        assert s.get(Campaign, cid).status == "finished"


def test_a_large_launch_is_planned_by_a_worker_with_progress(
    rt, client, tenant, clock, monkeypatch
):
    monkeypatch.setattr(campaign_runs, "INLINE_LIMIT", 10)
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 25)
    consent(rt, tenant["id"], [phone(i) for i in range(25)])
    monkeypatch.setattr("relay.campaigns.audience.CHUNK", 10)
    cid, resp = start(client, tenant, campaign_body(book))
    assert resp.status_code == 202
    assert resp.get_json()["progress"]["phase"] == "planning"
    assert messages(rt, cid) == []
    run_worker(rt)  # plans (3 chunks), then delivers what it queued
    with rt.session() as s:
        progress = s.get(Campaign, cid).progress
    assert (progress["phase"], progress["planned"]) == ("planned", 25)
    assert progress["cursor"] == max(m.context["contact"]["id"] for m in messages(rt, cid))
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 25


def test_an_interrupted_launch_resumes_where_it_stopped_without_duplicates(
    rt, client, tenant, clock, monkeypatch
):
    monkeypatch.setattr(campaign_runs, "INLINE_LIMIT", 0)  # hand it to a worker …
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 30)
    consent(rt, tenant["id"], [phone(i) for i in range(30)])
    cid, _ = start(client, tenant, campaign_body(book, pace={"count": 10, "minutes": 5}))
    rt.redis.flushdb()  # … which never runs it: Redis lost the job
    assert messages(rt, cid) == []
    # a worker picks the launch up, plans one chunk of 12 and dies
    monkeypatch.setattr("relay.campaigns.audience.CHUNK", 12)
    original = campaign_runs.plan_chunk
    calls = {"n": 0}

    def dies_after_one_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(campaign_runs, "plan_chunk", dies_after_one_chunk)
    try:
        campaign_runs.plan_run(rt, cid)
    except RuntimeError:
        pass
    assert len(messages(rt, cid)) == 12
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=tenant["headers"]).get_json()
    assert (progress["phase"], progress["planned"], progress["not_yet_planned"]) == (
        "planning",
        12,
        18,
    )
    assert progress["eta"] == "2026-01-15T15:10:00+03:00"  # 30 at 10 per 5 min: last slot +10
    monkeypatch.setattr(campaign_runs, "plan_chunk", original)
    assert run_due_campaigns(rt).resumed == []  # too fresh: its worker may still be on it
    clock.advance(minutes=3)
    report = run_due_campaigns(rt)
    assert report.resumed == [cid]
    rows = messages(rt, cid)
    assert len(rows) == 30 and len({m.phone for m in rows}) == 30
    # pacing carried on across the interruption: 10 per 5-minute slot
    assert sorted(Counter(m.not_before for m in rows).values()) == [10, 10, 10]


def test_birthday_greetings_run_daily_at_start_time_and_never_twice(rt, client, tenant, clock):
    template(rt, tenant["id"], "bday", "С днём рождения, {{ contact.name }}! Отказ: STOP")
    birthdays = {0: date(1990, 1, 15), 1: date(1985, 1, 16), 2: date(2000, 3, 1)}
    book = make_book(rt, tenant["id"], 3, birthdays=birthdays)
    consent(rt, tenant["id"], [phone(i) for i in range(3)])
    body = campaign_body(book, kind="birthday", template="bday", start_at="2026-01-15T10:00")
    cid, _ = start(client, tenant, body)  # 15:00 now, 10:00 start: within the grace, runs now
    assert [m.phone for m in messages(rt, cid)] == [phone(0)]
    with rt.session() as s:
        assert s.get(Campaign, cid).next_run_at == datetime(2026, 1, 16, 7, 0, tzinfo=UTC)
    assert run_due_campaigns(rt).started == []  # nothing due: no second run today

    clock.set(datetime(2026, 1, 16, 7, 0, tzinfo=UTC))  # 10:00 next day in Minsk
    first, second = run_due_campaigns(rt), run_due_campaigns(rt)
    assert (first.started, second.started) == ([cid], [])
    assert sorted(m.phone for m in messages(rt, cid)) == [phone(0), phone(1)]
    assert messages(rt, cid)[-1].text == "С днём рождения, Contact 1! Отказ: STOP"
    with rt.session() as s:
        c = s.get(Campaign, cid)
        assert c.next_run_at == datetime(2026, 1, 17, 7, 0, tzinfo=UTC)
        assert c.progress["runs"] == 2


def test_date_greeting_waits_for_its_day_and_a_missed_run_is_skipped(rt, client, tenant, clock):
    template(rt, tenant["id"], "march8", "С 8 Марта, {{ contact.name }}! Отказ: STOP")
    book = make_book(rt, tenant["id"], 2)
    consent(rt, tenant["id"], [phone(0), phone(1)])
    body = campaign_body(
        book, kind="date", greeting_date="03-08", template="march8", start_at="2026-01-15T09:30"
    )
    cid, resp = start(client, tenant, body)
    assert resp.get_json()["next_run_at"] == "2026-03-08T09:30:00+03:00"
    assert messages(rt, cid) == []
    clock.set(datetime(2026, 3, 8, 6, 30, tzinfo=UTC))
    assert run_due_campaigns(rt).started == [cid]
    assert len(messages(rt, cid)) == 2
    with rt.session() as s:
        assert s.get(Campaign, cid).next_run_at == datetime(2027, 3, 8, 6, 30, tzinfo=UTC)
    clock.set(datetime(2027, 3, 9, 12, 0, tzinfo=UTC))  # the workers were down all 8 March
    report = run_due_campaigns(rt)
    assert (report.started, report.skipped) == ([], [cid])
    assert len(messages(rt, cid)) == 2  # no late greeting
    with rt.session() as s:
        assert s.get(Campaign, cid).next_run_at == datetime(2028, 3, 8, 6, 30, tzinfo=UTC)


def test_a_launch_paused_half_way_resumes_planning_and_paces_from_the_resume(
    rt, client, tenant, clock, monkeypatch
):
    monkeypatch.setattr(campaign_runs, "INLINE_LIMIT", 0)  # every launch goes to a worker
    monkeypatch.setattr("relay.campaigns.audience.CHUNK", 10)
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 25)
    consent(rt, tenant["id"], [phone(i) for i in range(25)])
    cid, resp = start(client, tenant, campaign_body(book, pace={"count": 10, "minutes": 5}))
    assert resp.status_code == 202
    original, calls = campaign_runs.plan_chunk, {"n": 0}

    def pause_before_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            # the first chunk is written by the background writer: pause once it is committed
            # (the pause landing before that commit is the next test's case)
            wait_for(lambda: len(messages(rt, cid)) == 10)
            paused = client.post(f"/v1/campaigns/{cid}/pause", headers=tenant["headers"])
            assert paused.status_code == 200
        return original(*args, **kwargs)

    monkeypatch.setattr(campaign_runs, "plan_chunk", pause_before_second_chunk)
    campaign_runs.plan_run(rt, cid)
    monkeypatch.setattr(campaign_runs, "plan_chunk", original)
    rows = messages(rt, cid)
    assert len(rows) == 10 and {m.reason_detail for m in rows} == {"paused"}

    clock.advance(hours=1)
    resumed = client.post(f"/v1/campaigns/{cid}/resume", headers=tenant["headers"])
    assert resumed.status_code == 202  # 10 parked + 15 not yet planned: a worker's job
    run_worker(rt)
    rows = messages(rt, cid)
    assert len(rows) == 25 and len({m.phone for m in rows}) == 25
    resume_at = clock.now
    assert Counter(m.not_before for m in rows) == {
        resume_at: 10,
        resume_at + minutes(5): 10,
        resume_at + minutes(10): 5,
    }


def wait_for(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the campaign's writer never got there"
        time.sleep(0.01)


def test_a_pause_that_beats_the_first_chunks_commit_loses_nothing(
    rt, client, tenant, clock, monkeypatch
):
    """The writer has the first chunk in hand when the pause commits: the chunk is not
    written, and the resume plans it (nothing lost, nothing sent while paused)."""
    monkeypatch.setattr(campaign_runs, "INLINE_LIMIT", 0)
    monkeypatch.setattr("relay.campaigns.audience.CHUNK", 10)
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 25)
    consent(rt, tenant["id"], [phone(i) for i in range(25)])
    cid, _ = start(client, tenant, campaign_body(book, pace={"count": 10, "minutes": 5}))
    paused = threading.Event()
    original_hold, original_chunk, calls = (
        campaign_writer.hold_planning,
        campaign_runs.plan_chunk,
        {"n": 0},
    )

    def hold_after_the_pause(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert paused.wait(30)
        return original_hold(*args, **kwargs)

    def pause_before_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            resp = client.post(f"/v1/campaigns/{cid}/pause", headers=tenant["headers"])
            assert resp.status_code == 200
            paused.set()
        return original_chunk(*args, **kwargs)

    monkeypatch.setattr(campaign_writer, "hold_planning", hold_after_the_pause)
    monkeypatch.setattr(campaign_runs, "plan_chunk", pause_before_second_chunk)
    campaign_runs.plan_run(rt, cid)
    monkeypatch.undo()
    assert messages(rt, cid) == []
    with rt.session() as s:
        assert s.get(Campaign, cid).progress["cursor"] == 0  # the next planner starts over

    clock.advance(hours=1)
    resumed = client.post(f"/v1/campaigns/{cid}/resume", headers=tenant["headers"])
    assert resumed.status_code in (200, 202)
    run_worker(rt)
    rows = messages(rt, cid)
    assert len(rows) == 25 and len({m.phone for m in rows}) == 25
    resume_at = clock.now
    assert Counter(m.not_before for m in rows) == {
        resume_at: 10,
        resume_at + minutes(5): 10,
        resume_at + minutes(10): 5,
    }


def test_a_pause_and_resume_while_planning_leaves_no_message_parked(
    rt, client, tenant, clock, monkeypatch
):
    """Paused and resumed while its planner is still at work: the planner must not go on
    with its old pace and progress (which would leave the parked messages parked for ever);
    it re-paces them and plans the rest from the resume."""
    monkeypatch.setattr(campaign_runs, "INLINE_LIMIT", 0)
    monkeypatch.setattr("relay.campaigns.audience.CHUNK", 10)
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 25)
    consent(rt, tenant["id"], [phone(i) for i in range(25)])
    cid, _ = start(client, tenant, campaign_body(book, pace={"count": 10, "minutes": 5}))
    original, calls = campaign_runs.plan_chunk, {"n": 0}

    def pause_and_resume(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            wait_for(lambda: len(messages(rt, cid)) == 10)
            for action in ("pause", "resume"):
                resp = client.post(f"/v1/campaigns/{cid}/{action}", headers=tenant["headers"])
                assert resp.status_code in (200, 202), resp.get_json()
        return original(*args, **kwargs)

    monkeypatch.setattr(campaign_runs, "plan_chunk", pause_and_resume)
    clock.advance(minutes=1)  # the resume is a minute after the start
    campaign_runs.plan_run(rt, cid)
    monkeypatch.undo()
    rows = messages(rt, cid)
    assert len(rows) == 25 and len({m.phone for m in rows}) == 25
    assert all(m.not_before < PAUSED_UNTIL for m in rows)  # nothing left parked
    resume_at = clock.now
    assert Counter(m.not_before for m in rows) == {
        resume_at: 10,
        resume_at + minutes(5): 10,
        resume_at + minutes(10): 5,
    }
    with rt.session() as s:
        progress = s.get(Campaign, cid).progress
    assert (progress["phase"], progress["planned"], "repace" in progress) == ("planned", 25, False)
