"""The intake spool: events that arrive while the database is down wait in a journal and are
recorded once when it returns (docs/security.md, 'Faults: outages, killed workers, gateways')."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from relay.adapters import spool_journal
from relay.api.spool_http import app_spool, keep_outage_trust_warm, replay_through
from relay.storage.models import Event, Message
from relay.tenancy.tenants import _AUTH_CACHE, forget_cached_keys, hash_key
from tests.support.factories import order_event
from tests.support.outage import database_down

AT = "2026-01-15T12:00:00+00:00"


def count(rt, model) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_events_during_an_outage_are_spooled_then_recorded_once(rt, app, client, tenant, tmp_path):
    h = tenant["headers"]
    before = client.post(
        "/v1/events", headers=h, json=order_event("e-0", "+375291234567", "processing", AT)
    )
    assert before.status_code == 202
    with database_down(rt, tmp_path):
        answers = [
            client.post(
                "/v1/events",
                headers=h,
                json=order_event(f"e-{i}", "+375291234567", "processing", AT),
            )
            for i in (1, 2, 2, 3)  # e-2 twice: a client retrying
        ]
        assert [a.status_code for a in answers] == [202] * 4
        assert answers[0].get_json() == {"status": "accepted", "spooled": True, "event_id": "e-1"}
        # an invalid event is refused without the database, as always
        bad = client.post("/v1/events", headers=h, json={"event_id": "x", "type": "nope"})
        assert bad.status_code == 422
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["checks"]["spool"] == "pending"
    spool = app_spool(app)
    [journal] = spool_journal.journals(spool.folder)
    raw = journal.read_bytes()
    assert b"375291234567" not in raw and tenant["key"].encode() not in raw  # sealed at rest
    assert spool.status().pending == 4

    report = spool.replay(replay_through(app))
    assert (report.replayed, report.refused, report.waiting) == (4, 0, 0)
    assert report.answers == {202: 3, 200: 1}  # the retried e-2 is a duplicate, not a second event
    assert count(rt, Event) == 4
    with rt.session() as s:
        per_event = s.execute(
            select(Event.event_id, func.count(Message.id))
            .join(Message, Message.event_pk == Event.id)
            .group_by(Event.event_id)
        ).all()
    assert sorted(per_event) == [("e-0", 1), ("e-1", 1), ("e-2", 1), ("e-3", 1)]
    assert spool_journal.journals(spool.folder) == []  # replayed journals are removed
    assert client.get("/healthz").get_json()["checks"] == {"db": "ok", "redis": "ok"}


def test_a_key_the_process_has_not_confirmed_gets_503_with_retry_after(
    rt, client, tenant, tmp_path
):
    forget_cached_keys()
    with database_down(rt, tmp_path):
        resp = client.post(
            "/v1/events",
            headers=tenant["headers"],
            json=order_event("e-1", "+375291234567", "processing", AT),
        )
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "30"
    assert resp.get_json()["error"]["code"] == "temporarily_unavailable"
    assert count(rt, Event) == 0


def test_a_serving_process_knows_every_key_before_an_outage_begins(rt, client, tenant, tmp_path):
    # a web process that never served this tenant: its warm-up confirmed the key anyway
    forget_cached_keys()
    keep_outage_trust_warm(rt, every=3600)
    deadline = time.monotonic() + 10
    while hash_key(tenant["key"]) not in _AUTH_CACHE and time.monotonic() < deadline:
        time.sleep(0.05)
    with database_down(rt, tmp_path):
        resp = client.post(
            "/v1/events",
            headers=tenant["headers"],
            json=order_event("e-1", "+375291234567", "processing", AT),
        )
    assert resp.status_code == 202 and resp.get_json()["spooled"] is True


def test_a_full_spool_answers_503_with_retry_after_and_says_so(rt, tenant, tmp_path):
    from relay import create_app

    rt.config["SPOOL_MAX_MB"] = 0.002  # about 2 KB: one spooled event fits, the next does not
    app = create_app(runtime=rt)
    client = app.test_client()
    spool = app_spool(app)
    h = tenant["headers"]
    client.post("/v1/events", headers=h, json=order_event("e-0", "+375291234567", "processing", AT))
    with database_down(rt, tmp_path):
        first = client.post(
            "/v1/events", headers=h, json=order_event("e-1", "+375291234567", "processing", AT)
        )
        second = client.post(
            "/v1/events", headers=h, json=order_event("e-2", "+375291234567", "processing", AT)
        )
        health = client.get("/healthz").get_json()
    assert first.status_code == 202
    assert second.status_code == 503 and second.headers["Retry-After"] == "30"
    assert health["checks"]["spool"] == "full"
    assert spool.replay(replay_through(app)).replayed == 1
    assert count(rt, Event) == 2  # e-0 and e-1; e-2 was refused, so its client retries it


def test_a_journal_whose_process_died_is_replayed_by_another(
    rt, app, client, tenant, tmp_path: Path
):
    h = tenant["headers"]
    client.post("/v1/events", headers=h, json=order_event("e-0", "+375291234567", "processing", AT))
    with database_down(rt, tmp_path):
        assert (
            client.post(
                "/v1/events", headers=h, json=order_event("e-1", "+375291234567", "processing", AT)
            ).status_code
            == 202
        )
    spool = app_spool(app)
    journal = spool._journal
    assert journal is not None
    journal.close()  # the process is gone: its lock with it
    spool._journal = None
    from relay import create_app

    other = create_app(runtime=rt)
    assert app_spool(other).replay(replay_through(other)).replayed == 1
    assert count(rt, Event) == 2
    assert spool_journal.journals(spool.folder) == []
