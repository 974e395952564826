"""PostgreSQL stopped for 30 s while events and WooCommerce webhooks arrive: nothing accepted
is lost, nothing is sent twice (docs/security.md, 'Faults: outages, killed workers, gateways').

The test owns its PostgreSQL cluster (initdb in a temporary folder, a free port), so it may
stop it; `relay web` (gunicorn, two processes, each with its own spool journal) and `relay
worker` run against it with the sandbox gateway, which records every send. The counts are
printed (`pytest -s`) and written to `outage-counts.json` in the test's temporary folder (or
to $RELAY_FAULT_REPORT).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from relay.storage.models import Event, Message
from relay.wiring import build_runtime
from tests.connectors.woocommerce.helpers import CK, CS, SECRET, headers, order, php_json
from tests.faults import services
from tests.support.factories import make_tenant, order_event, sandbox_sends

OUTAGE_SECONDS = float(os.environ.get("RELAY_FAULT_OUTAGE_SECONDS", "30"))
STORE = "http://127.0.0.1:9/"  # never called: order notes are written back with retries
PHONE = "+375291234567"
BEFORE, DURING, AFTER = 16, 20, 10


class Caller:
    """A store's systems: events retried on 503 (as Retry-After asks), webhooks never
    (WooCommerce does not retry a failed delivery)."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key
        self.answers: dict[str, list[int]] = {}

    def event(self, n: int) -> None:
        body = order_event(f"api-{n}", PHONE, "processing", "2026-01-15T12:00:00+00:00")
        codes = self.answers.setdefault(f"api-{n}", [])
        for _ in range(40):
            try:
                resp = requests.post(
                    f"{self.base}/v1/events",
                    json=body,
                    headers={"Authorization": f"Bearer {self.key}"},
                    timeout=10,
                )
                codes.append(resp.status_code)
                if resp.status_code < 500:
                    return
            except requests.RequestException:
                codes.append(0)
            time.sleep(1)  # Retry-After says 30 s; a test has less patience

    def webhook(self, n: int) -> None:
        raw = php_json(order(id=1000 + n, number=str(1000 + n), status="processing"))
        codes = self.answers.setdefault(f"woo-{1000 + n}", [])
        try:
            resp = requests.post(
                f"{self.base}/connectors/woocommerce/webhook",
                data=raw,
                headers=headers(STORE, "order.updated", raw, delivery_id=f"d-{n}"),
                timeout=10,
            )
            codes.append(resp.status_code)
        except requests.RequestException:
            codes.append(0)

    def both(self, numbers: range) -> None:
        with ThreadPoolExecutor(8) as pool:
            for n in numbers:
                pool.submit(self.event, n)
                pool.submit(self.webhook, n)


def sent_per_item(rt: Any) -> tuple[dict[str, int], int]:
    """Sandbox sends per item (api-N or woo-<order id>), and all sends."""
    sends = sandbox_sends(rt)
    with rt.session() as s:
        rows = s.execute(select(Message.id, Event.event_id, Event.payload).join(Event)).all()
    item_of = {}
    for mid, event_id, data in rows:
        platform = ((data or {}).get("source") or {}).get("platform")
        if event_id.startswith("api-"):
            item_of[mid] = event_id
        elif platform == "woocommerce":
            item_of[mid] = f"woo-{((data or {}).get('order') or {}).get('id')}"
    per: dict[str, int] = {}
    for send in sends:
        item = item_of.get(send["message_id"], "?")
        per[item] = per.get(item, 0) + 1
    return per, len(sends)


def wait_until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return bool(predicate())


def test_postgres_stopped_30s_during_webhooks_and_events_loses_and_doubles_nothing(
    redis_url, tmp_path: Path
):
    services.require_pg_binaries()
    cluster = services.PgCluster().init()
    env = services.relay_env(cluster.url, redis_url, tmp_path / "spool")
    procs = []
    try:
        services.run_upgrade(env)
        rt = build_runtime(
            {
                "DATABASE_URL": cluster.url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": env["RELAY_SECRET_KEY"],
            }
        )
        rt.redis.flushdb()
        tenant = make_tenant(rt, "outage-shop", "BY", settings={"transactional_quiet_hours": False})
        port = services.free_port()
        base = f"http://127.0.0.1:{port}"
        procs.append(
            services.relay(
                env, "web", "--port", str(port), "--workers", "2", log=tmp_path / "web.log"
            )
        )
        procs.append(services.relay(env, "worker", log=tmp_path / "worker.log"))
        services.wait_for_http(f"{base}/healthz", procs[0])
        installed = requests.post(
            f"{base}/connectors/woocommerce/installations",
            json={
                "store_url": STORE,
                "webhook_secret": SECRET,
                "consumer_key": CK,
                "consumer_secret": CS,
            },
            headers={"Authorization": f"Bearer {tenant['key']}"},
            timeout=10,
        )
        assert installed.status_code == 201, installed.text
        caller = Caller(base, tenant["key"])

        caller.both(range(BEFORE))  # both web processes learn the key and the store's secret
        assert wait_until(lambda: sent_per_item(rt)[1] >= 2 * BEFORE, 60), sent_per_item(rt)

        cluster.stop()
        started = time.monotonic()
        for n in range(BEFORE, BEFORE + DURING):
            caller.both(range(n, n + 1))
            time.sleep(
                max(0.0, (n - BEFORE + 1) * OUTAGE_SECONDS / DURING - (time.monotonic() - started))
            )
        spooled_files = list((tmp_path / "spool").glob("*.journal"))
        cluster.start()
        outage = time.monotonic() - started

        caller.both(range(BEFORE + DURING, BEFORE + DURING + AFTER))
        total = BEFORE + DURING + AFTER
        accepted = {
            item for item, codes in caller.answers.items() if codes and 200 <= codes[-1] < 300
        }
        assert wait_until(lambda: set(sent_per_item(rt)[0]) >= accepted, 90)
        time.sleep(3)  # a late duplicate would show up now
        per, sends = sent_per_item(rt)
        counts = {
            "outage_seconds": round(outage, 1),
            "in": 2 * total,
            "accepted": len(accepted),
            "refused_webhooks": sum(
                1 for i, c in caller.answers.items() if i.startswith("woo-") and c[-1] >= 300
            ),
            "events_retried": sum(
                1 for i, c in caller.answers.items() if i.startswith("api-") and len(c) > 1
            ),
            "journals_during_outage": len(spooled_files),
            "sent": sends,
            "lost": len(accepted - set(per)),
            "duplicated": sum(n - 1 for n in per.values() if n > 1),
        }
        report = Path(os.environ.get("RELAY_FAULT_REPORT") or tmp_path / "outage-counts.json")
        report.write_text(json.dumps(counts))
        print("\nPostgreSQL outage:", json.dumps(counts))
        assert counts["lost"] == 0 and counts["duplicated"] == 0, counts
        assert counts["accepted"] == 2 * total, (counts, caller.answers)
        assert counts["journals_during_outage"] >= 1  # the outage did go through the spool
    finally:
        for proc in procs:
            services.stop(proc)
        cluster.destroy()
