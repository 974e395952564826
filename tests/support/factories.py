"""Building test data through the same services production uses."""

from __future__ import annotations

import json
from typing import Any

from rq import Queue

from relay.adapters.redis_conn import RelayWorker, worker_client
from relay.content.flowdefs import default_flows, load_flows
from relay.providers.sandbox import SANDBOX_KEY
from relay.runtime import Runtime
from relay.tenancy.tenants import create_key, create_tenant


def make_tenant(
    rt: Runtime,
    name: str,
    region: str,
    timezone: str | None = None,
    settings: dict[str, Any] | None = None,
    flows: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create a tenant with flows and a full-scope key; returns ids and auth header."""
    with rt.session() as s:
        t = create_tenant(s, name, region, timezone, settings)
        load_flows(s, t, flows if flows is not None else default_flows())
        _row, key = create_key(s, t, ["events:write", "messages:read", "admin"])
        s.commit()
        return {"id": t.id, "name": name, "key": key, "headers": {"Authorization": f"Bearer {key}"}}


def run_worker(rt: Runtime) -> None:
    """Drain the relay queue in this process (burst), as a real RQ worker would."""
    from relay.platforms.writeback import WRITEBACK_QUEUE

    conn = worker_client(rt.config["REDIS_URL"])
    queues = [
        Queue(rt.config["QUEUE_NAME"], connection=conn),
        Queue(WRITEBACK_QUEUE, connection=conn),
    ]
    RelayWorker(queues, connection=conn).work(burst=True, logging_level="ERROR")


def sandbox_sends(rt: Runtime) -> list[dict[str, Any]]:
    """Everything the sandbox gateway was asked to send."""
    return [json.loads(x) for x in rt.redis.lrange(SANDBOX_KEY, 0, -1)]


def order_event(event_id: str, phone: str, status: str, at: str, **extra: Any) -> dict[str, Any]:
    """An order.status_changed event on the wire."""
    event = {
        "event_id": event_id,
        "type": "order.status_changed",
        "occurred_at": at,
        "source": {"platform": "woocommerce", "account": "shop.example.by"},
        "customer": {"phone": phone, "name": "Анна"},
        "order": {
            "id": "727",
            "number": "727",
            "status": status,
            "previous_status": "pending",
            "total": "29.35",
            "currency": "BYN",
        },
    }
    event.update(extra)
    return event
