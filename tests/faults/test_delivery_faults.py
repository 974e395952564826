"""Delivery under faults, end to end: real stand-in gateways, real workers, counted outcomes.

Each test sends N messages through a gateway that misbehaves, lets the relay recover (retries,
the sweeper, the gateway asked about what it may have), and counts what the gateway took:
in (messages), sent (distinct messages the gateway took), duplicated (taken more than once),
lost (never taken, not waiting for anything). The counts are printed (run with -s) for the
notes of docs/security.md, "Faults: outages, killed workers, gateways".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from relay import create_app
from relay.delivery.sweeper import sweep
from relay.gateways.provider_admin import save_provider
from relay.storage.models import Message, MessageHistory, TenantProvider
from relay.storage.models import Provider as ProviderRow
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.standins import StandIn
from tests.support.standins.smsc import SmscStandIn
from tests.support.standins.smsru import SmsRuStandIn

AT = "2026-01-15T15:00:00+03:00"


@pytest.fixture
def smsc() -> Iterator[SmscStandIn]:
    with SmscStandIn("shop", "pw") as server:
        yield server


def use_gateway(rt, tenant_id: str, type_name: str, config: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    """Make `type_name` the tenant's only gateway; returns its callback token."""
    with rt.session() as s:
        save_provider(s, "gw", type_name, config, rt.secrets)
        row = s.scalar(select(ProviderRow).where(ProviderRow.name == "gw"))
        s.add(TenantProvider(tenant_id=tenant_id, provider_id=row.id, position=0))
        s.commit()
        return str(row.callback_token)


def smsc_config(server: StandIn) -> dict[str, Any]:
    # 3 s: a loaded CI machine must not turn an answer into a timeout; hangs last longer
    return {"login": "shop", "psw": "pw", "base_url": server.url, "timeout": 3}


def post_messages(rt, n: int, name: str = "faulty") -> tuple[dict[str, Any], list[str]]:  # type: ignore[no-untyped-def]
    tenant = make_tenant(rt, name, "BY", settings={"transactional_quiet_hours": False})
    client = create_app(runtime=rt).test_client()
    ids = []
    for i in range(n):
        resp = client.post(
            "/v1/events",
            headers=tenant["headers"],
            json=order_event(f"e{i}", f"+3752912345{i:02d}", "processing", AT),
        )
        [msg] = resp.get_json()["messages"]
        ids.append(msg["id"])
    return tenant, ids


def statuses(rt, ids: list[str]) -> Counter[str]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return Counter(s.scalars(select(Message.status).where(Message.id.in_(ids))).all())


def taken_ids(server: StandIn) -> list[str]:
    """Our message ids as the gateway took them (SMSC: the `id` parameter)."""
    return [c.params.get("id", "") for c in server.accepted]


def counts(name: str, ids: list[str], taken: list[str], waiting: int = 0) -> dict[str, int]:
    seen = Counter(t for t in taken if t in ids)
    out = {
        "in": len(ids),
        "sent": len(seen),
        "duplicated": sum(c - 1 for c in seen.values()),
        "lost": len(ids) - len(seen) - waiting,
    }
    print(f"\n[fault counts] {name}: {out}")
    return out


def recover(rt, clock, rounds: int = 6, step: int = 400) -> None:  # type: ignore[no-untyped-def]
    """Let time pass and the sweeper and workers run, as production would."""
    for _ in range(rounds):
        clock.advance(seconds=step)
        rt.redis.delete("relay:sweeper:lock")
        sweep(rt)
        run_worker(rt)


def test_gateway_accepts_then_hangs_no_duplicate(rt, clock, smsc):
    _, ids = post_messages(rt, 6)
    use_gateway(rt, _tenant_id(rt, ids[0]), "smsc", smsc_config(smsc))
    smsc.fault, smsc.fault_times, smsc.hang = "hang", 2, 4.5
    run_worker(rt)
    assert statuses(rt, ids)["unknown"] == 2  # timed out after the gateway took them
    assert len(smsc.accepted) == 6
    recover(rt, clock)  # the sweeper asks SMSC by our id: it has them (delivered)
    assert statuses(rt, ids) == Counter({"sent": 4, "delivered": 2})
    assert counts("accepted-then-hung", ids, taken_ids(smsc)) == {
        "in": 6, "sent": 6, "duplicated": 0, "lost": 0
    }  # fmt: skip


def test_connection_reset_after_the_request_no_duplicate(rt, clock, smsc):
    _, ids = post_messages(rt, 6)
    use_gateway(rt, _tenant_id(rt, ids[0]), "smsc", smsc_config(smsc))
    smsc.fault, smsc.fault_times = "reset", 2
    run_worker(rt)
    assert statuses(rt, ids)["unknown"] == 2
    recover(rt, clock)
    assert statuses(rt, ids) == Counter({"sent": 4, "delivered": 2})
    assert counts("connection-reset", ids, taken_ids(smsc)) == {
        "in": 6, "sent": 6, "duplicated": 0, "lost": 0
    }  # fmt: skip


def test_gateway_500_is_retried_until_sent(rt, clock, smsc):
    _, ids = post_messages(rt, 6)
    use_gateway(rt, _tenant_id(rt, ids[0]), "smsc", smsc_config(smsc))
    smsc.fault, smsc.fault_times = "http_500", 4
    run_worker(rt)
    assert statuses(rt, ids)["queued"] == 4  # waiting for a retry, none failed
    recover(rt, clock)
    assert statuses(rt, ids) == Counter({"sent": 6})
    assert counts("http-500", ids, taken_ids(smsc)) == {
        "in": 6, "sent": 6, "duplicated": 0, "lost": 0
    }  # fmt: skip


@pytest.mark.parametrize("body", ["429_json", "429_text"])
def test_throttled_429_waits_and_never_fails(rt, clock, body):
    with SmsRuStandIn("api") as smsru:
        _, ids = post_messages(rt, 6)
        config = {"api_id": "api", "base_url": smsru.url, "timeout": 1, "test": True}
        use_gateway(rt, _tenant_id(rt, ids[0]), "smsru", config)
        smsru.fault, smsru.fault_times = body, 5
        run_worker(rt)
        assert statuses(rt, ids)["failed"] == 0
        recover(rt, clock, step=120)
        assert statuses(rt, ids) == Counter({"sent": 6})
        taken = [c.params["to"] for c in smsru.accepted]
    phones = [f"3752912345{i:02d}" for i in range(6)]
    assert counts(f"throttled-{body}", phones, taken) == {
        "in": 6, "sent": 6, "duplicated": 0, "lost": 0
    }  # fmt: skip


def test_duplicate_and_out_of_order_receipts(rt, clock, smsc):
    _, ids = post_messages(rt, 3)
    token = use_gateway(rt, _tenant_id(rt, ids[0]), "smsc", smsc_config(smsc))
    smsc.fault, smsc.fault_times, smsc.hang = "hang", 1, 4.5  # the first sent ends `unknown`
    run_worker(rt)
    assert statuses(rt, ids) == Counter({"unknown": 1, "sent": 2})
    # which one went first is the database's order, not the list's
    with rt.session() as s:
        hung = s.scalars(select(Message.id).where(Message.id.in_(ids),
                                                  Message.status == "unknown")).one()  # fmt: skip
    other = next(i for i in ids if i != hung)
    client = create_app(runtime=rt).test_client()
    url = f"/callbacks/gw/{token}/dlr"
    # a receipt settles the `unknown` one; then the earlier "sent" (out of order) and the
    # same "delivered" twice (duplicates) change nothing
    for code in (1, 0, 1, 1):
        resp = client.post(url, data=SmscStandIn.status_form(hung, "+375291234500", code))
        assert resp.status_code == 200
    resp = client.post(url, data=SmscStandIn.status_form(other, "+375291234501", 1))
    assert resp.status_code == 200
    assert statuses(rt, ids) == Counter({"delivered": 2, "sent": 1})
    with rt.session() as s:
        delivered = s.scalars(
            select(MessageHistory.status).where(
                MessageHistory.message_id == hung, MessageHistory.status == "delivered"
            )
        ).all()
    assert len(delivered) == 1  # one change, however many copies came
    assert counts("receipts", ids, taken_ids(smsc)) == {
        "in": 3, "sent": 3, "duplicated": 0, "lost": 0
    }  # fmt: skip


def _tenant_id(rt, mid: str) -> str:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.get_one(Message, mid).tenant_id


# --- real worker processes -------------------------------------------------------------------


def worker_env(rt, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update(
        {
            "RELAY_DATABASE_URL": rt.config["DATABASE_URL"],
            "RELAY_REDIS_URL": rt.config["REDIS_URL"],
            "RELAY_SECRET_KEY": rt.config["SECRET_KEY"],
            "RELAY_PUBLIC_URL": "http://relay.test",
            "RELAY_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def start_worker(rt, **extra: str) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "worker", "--burst", "--no-sweeper", "--no-scheduler"],
        env=worker_env(rt, **extra),
    )


def test_worker_sigkilled_mid_batch_loses_and_duplicates_nothing(rt, clock, smsc):
    n = 40
    _, ids = post_messages(rt, n)
    use_gateway(rt, _tenant_id(rt, ids[0]), "smsc", smsc_config(smsc))
    smsc.delay = 0.1  # a request is in flight most of the time
    # intake's drain job and pending ids: one batch of all 40 instead
    rt.redis.delete(*rt.redis.keys("rq:*"), *rt.redis.keys("relay:deliver:*"))
    rt.dispatcher.__init__(rt.redis, rt.config["QUEUE_NAME"], batch_size=n)
    rt.dispatcher.dispatch([(m, None) for m in ids])
    proc = start_worker(rt, RELAY_DELIVERY_WINDOW="10")
    deadline = time.monotonic() + 30
    while len(smsc.calls) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    time.sleep(0.3)  # the request in flight reaches the stand-in
    with rt.session() as s:
        stranded = s.execute(
            select(Message.attempt_started_at).where(
                Message.id.in_(ids), Message.status == "sending"
            )
        ).all()
    in_flight = sum(1 for (at,) in stranded if at is not None)
    never_left = len(stranded) - in_flight
    print(f"\n[fault counts] sigkill: stranded={len(stranded)} in_flight={in_flight}")
    assert in_flight <= 1  # SMSC is called one message at a time
    assert len(stranded) <= 10  # at most the window that was being sent
    # past the stale limit: never-left claims are re-queued, the one in flight is asked about
    clock.set(datetime.now(UTC) + timedelta(minutes=10))
    rt.redis.delete("relay:sweeper:lock")
    report = sweep(rt)
    assert (report.never_sent, report.unknown) == (never_left, in_flight)
    rt.clock = lambda: datetime.now(UTC) + timedelta(minutes=10)
    run_worker(rt)
    final = statuses(rt, ids)
    assert final["sending"] == final["unknown"] == 0, final
    assert counts("worker-sigkill", ids, taken_ids(smsc)) == {
        "in": n, "sent": n, "duplicated": 0, "lost": 0
    }  # fmt: skip


def test_slow_gateway_finishes_a_batch_longer_than_a_fixed_timeout(rt, clock, smsc):
    n = 12
    _, ids = post_messages(rt, n)
    use_gateway(rt, _tenant_id(rt, ids[0]), "smsc", {**smsc_config(smsc), "timeout": 3})
    smsc.delay = 1.0  # 1 s per send, within the gateway's 3 s: the batch takes 12 s
    # the job and pending ids intake made: enqueue one batch ourselves
    rt.redis.delete(*rt.redis.keys("rq:*"), *rt.redis.keys("relay:deliver:*"))
    rt.dispatcher.__init__(rt.redis, rt.config["QUEUE_NAME"], batch_size=n, send_timeout=3)
    rt.dispatcher.dispatch([(m, None) for m in ids])
    [job] = rt.dispatcher.queue.get_jobs()
    # derived from the batch and the gateway's timeout, plus the time a drain job may still
    # start a batch
    assert job.timeout == n * 3 + 60 + rt.dispatcher.drain_seconds
    proc = start_worker(rt)
    proc.wait(50)
    assert statuses(rt, ids) == Counter({"sent": n})
    assert counts("slow-gateway", ids, taken_ids(smsc)) == {
        "in": n, "sent": n, "duplicated": 0, "lost": 0
    }  # fmt: skip
