"""Real worker processes: RQ's scheduler firing a deferral, and a worker killed mid-send."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from relay.delivery.sweeper import sweep
from relay.gateways.provider_admin import save_provider
from relay.storage.models import Message, TenantProvider
from tests.support import crash_worker
from tests.support.factories import make_tenant, order_event, sandbox_sends


def worker_env(rt) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update(
        {
            "RELAY_DATABASE_URL": rt.config["DATABASE_URL"],
            "RELAY_REDIS_URL": rt.config["REDIS_URL"],
            "RELAY_SECRET_KEY": rt.config["SECRET_KEY"],
            "RELAY_PUBLIC_URL": "http://relay.test",
            "RELAY_LOG_LEVEL": "WARNING",
        }
    )
    return env


def message(rt, mid: str) -> Message:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.get(Message, mid)


def test_deferred_message_is_sent_when_the_scheduler_fires(rt):
    # Real time throughout: quiet hours that end at the next whole minute in Minsk.
    rt.clock = lambda: datetime.now(UTC)
    minsk = ZoneInfo("Europe/Minsk")
    now = datetime.now(minsk)
    end = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (end - now).total_seconds() < 5:
        end += timedelta(minutes=1)
    start = now - timedelta(hours=1)
    tenant = make_tenant(
        rt,
        "night-shop",
        "BY",
        settings={"quiet_hours": {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}},
    )
    from relay import create_app

    client = create_app(runtime=rt).test_client()
    resp = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event("night", "+375291234567", "processing", datetime.now(UTC).isoformat()),
    )
    [msg] = resp.get_json()["messages"]
    assert (msg["status"], msg["reason"]) == ("scheduled", "quiet_hours")
    assert msg["not_before"] == end.astimezone(UTC).isoformat()

    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "worker", "--no-sweeper"], env=worker_env(rt)
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and message(rt, msg["id"]).status != "delivered":
            assert proc.poll() is None, "the worker process died"
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(15)
    final = message(rt, msg["id"])
    assert final.status == "delivered"
    [sent] = sandbox_sends(rt)
    assert sent["message_id"] == msg["id"]
    history = [
        h
        for h in client.get(f"/v1/messages/{msg['id']}", headers=tenant["headers"]).get_json()[
            "history"
        ]
    ]
    sending_at = datetime.fromisoformat(next(h["at"] for h in history if h["status"] == "sending"))
    assert sending_at >= end  # not a moment before the quiet hours ended


def test_worker_killed_mid_send_leaves_unknown_and_never_resends(rt, clock, tmp_path):
    crash_worker.register()
    tenant = make_tenant(rt, "crashy", "BY", settings={"transactional_quiet_hours": False})
    with rt.session() as s:
        save_provider(s, "crash", "crash", {}, rt.secrets)
        from sqlalchemy import select

        from relay.storage.models import Provider

        pid = s.scalar(select(Provider.id).where(Provider.name == "crash"))
        s.add(TenantProvider(tenant_id=tenant["id"], provider_id=pid, position=0))
        s.commit()
    from relay import create_app

    client = create_app(runtime=rt).test_client()
    [msg] = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event("k", "+375291234567", "processing", "2026-01-15T15:00:00+03:00"),
    ).get_json()["messages"]
    env = worker_env(rt) | {"CRASH_MARKER": str(tmp_path / "sent")}
    first = subprocess.run(
        [sys.executable, "-m", "tests.support.crash_worker"], env=env, timeout=60
    )
    assert first.returncode != 0  # the worker died
    assert message(rt, msg["id"]).status == "sending"

    clock.set(datetime.now(UTC) + timedelta(minutes=10))  # past the stale-claim limit
    report = sweep(rt)
    assert report.unknown == 1
    assert message(rt, msg["id"]).status == "unknown"

    # the job comes round again (RQ re-runs abandoned jobs): nothing is sent a second time
    rt.dispatcher.dispatch([(msg["id"], None)])
    again = subprocess.run(
        [sys.executable, "-m", "tests.support.crash_worker"], env=env, timeout=60
    )
    assert again.returncode == 0
    assert (tmp_path / "sent").read_text().split() == [msg["id"]]
    assert message(rt, msg["id"]).status == "unknown"
    assert sandbox_sends(rt) == []


def test_an_idle_worker_picks_up_a_new_message_at_once(rt, tmp_path):
    # A worker idle longer than a client's default socket timeout (5 s on redis-py 8) must still
    # be blocked on its queue, not backing off from a timed-out read (which delayed the first
    # message after a quiet spell by up to a minute).
    rt.clock = lambda: datetime.now(UTC)
    tenant = make_tenant(rt, "idle-shop", "BY", settings={"transactional_quiet_hours": False})
    from relay import create_app

    client = create_app(runtime=rt).test_client()
    log = (tmp_path / "worker.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "worker", "--no-sweeper", "--no-scheduler"],
        env=worker_env(rt),
        stderr=log,
    )
    try:
        time.sleep(16)  # idle: three 5 s read timeouts would have passed
        assert proc.poll() is None, "the worker process died"
        posted = time.monotonic()
        resp = client.post(
            "/v1/events",
            headers=tenant["headers"],
            json=order_event("idle", "+375291234567", "processing", datetime.now(UTC).isoformat()),
        )
        [msg] = resp.get_json()["messages"]
        while time.monotonic() - posted < 10 and message(rt, msg["id"]).status != "delivered":
            time.sleep(0.05)
        took = time.monotonic() - posted
    finally:
        proc.terminate()
        proc.wait(15)
    assert message(rt, msg["id"]).status == "delivered"
    # the failure was RQ taking a timed-out blocking read for a lost Redis and backing off
    log.seek(0)
    assert "could not connect" not in log.read().lower()
    # and the message went out at once (a backoff was up to 60 s; generous for a loaded machine)
    assert took < 5, f"an idle worker took {took:.1f} s to send a new message"
