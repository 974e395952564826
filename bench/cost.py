"""Scenario `cost`: what one event and one message cost — CPU, SQL statements, Redis commands.

    python bench/_scenario.py cost OUT.json [--quick] [--events 2000]

In one process, on the bench's PostgreSQL (RELAY_BENCH_DATABASE_URL) and an embedded Redis of
its own (so `INFO commandstats` counts only this process's commands):
  intake:   N `message.requested` events through the whole WSGI app (Flask's test client:
            routing, auth, rate limit, validation, decision, rows, enqueue — no HTTP server;
            gunicorn's own cost per request is the /healthz baseline of the intake scenario);
  delivery: RQ's in-process worker (the one `relay worker` runs) drains them through the
            sandbox gateway: claim, send-time decision, send, record — one job per message, as
            events leave them;
  batched:  the same for N messages queued as campaigns leave them (RELAY_BATCH_SIZE ids a
            job), for comparison.
Counted per event and per message: CPU ms (getrusage of this process), SQL statements (a
`before_cursor_execute` listener on the engine) and Redis commands (commandstats deltas).
The sandbox writes each batch it "sends" to Redis (one RPUSH per batch): counted too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _redis_calls(redis: Any) -> dict[str, int]:
    stats = redis.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = set(after) | set(before)
    found = {k: after.get(k, 0) - before.get(k, 0) for k in keys}
    return {k: v for k, v in sorted(found.items(), key=lambda kv: -kv[1]) if v and k != "info"}


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--events", type=int, default=None)
    args = ap.parse_args(argv)
    n = args.events or (150 if args.quick else 3000)

    from redis import Redis
    from sqlalchemy import event

    from bench._services import bench_database_url
    from relay.adapters.embedded_redis import EmbeddedRedis

    tmp = Path(tempfile.mkdtemp(prefix="relay-cost-"))
    embedded = EmbeddedRedis(tmp / "redis")
    redis_url = embedded.start()
    db_url = bench_database_url()
    os.environ.update(RELAY_DATABASE_URL=db_url, RELAY_REDIS_URL=redis_url,
                      RELAY_SECRET_KEY="bench", RELAY_LOG_LEVEL="WARNING",
                      RELAY_RATE_LIMIT_PER_KEY="1000000/second",
                      RELAY_SPOOL_DIR=str(tmp / "spool"),
                      RELAY_METRICS_DIR=str(tmp / "metrics"))  # fmt: skip
    try:
        from relay import create_app
        from relay.adapters.redis_conn import RelayWorker, worker_client
        from relay.storage.db import upgrade
        from relay.tenancy.tenants import create_key, create_tenant
        from relay.wiring import build_runtime, set_runtime

        upgrade(db_url)
        rt = build_runtime({})
        set_runtime(rt)
        with rt.session() as s:
            tenant = create_tenant(
                s, "bench-cost", "BY", None, {"transactional_quiet_hours": False}
            )
            _row, key = create_key(s, tenant, ["events:write"])
            s.commit()
        app = create_app(runtime=rt)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        statements = [0]

        @event.listens_for(rt.engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            statements[0] += 1

        redis = Redis.from_url(redis_url)

        def body(i: int) -> dict[str, Any]:
            return {"event_id": f"cost-{i}", "type": "message.requested",
                    "occurred_at": "2026-11-22T12:00:00+03:00",
                    "customer": {"phone": f"+3752912{i % 100_000:05d}",
                                 "timezone": "Europe/Minsk"},
                    "message": {"text": "Order 727 shipped.", "channel": "sms",
                                "category": "transactional"}}  # fmt: skip

        for i in range(20):  # warm-up: imports, caches, prepared connections
            client.post("/v1/events", json=body(-1 - i), headers=headers)
        RelayWorker([rt.config["QUEUE_NAME"]], connection=worker_client(redis_url)).work(
            burst=True, logging_level="ERROR"
        )
        phases: dict[str, dict[str, Any]] = {}

        def measure(name: str, run: Any, per: int) -> None:
            sql0, redis0, cpu0, t0 = statements[0], _redis_calls(redis), _cpu(), time.perf_counter()
            run()
            wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
            commands = _delta(_redis_calls(redis), redis0)
            phases[name] = {
                "count": per,
                "cpu_ms_each": round(1000 * cpu / per, 2),
                "wall_ms_each": round(1000 * wall / per, 2),
                "sql_statements_each": round((statements[0] - sql0) / per, 2),
                "redis_commands_each": round(sum(commands.values()) / per, 2),
                "redis_commands_by_name_each": {
                    k: round(v / per, 2) for k, v in list(commands.items())[:8]
                },
            }

        def intake() -> None:
            for i in range(n):
                resp = client.post("/v1/events", json=body(i), headers=headers)
                assert resp.status_code == 202, resp.get_data(as_text=True)[:300]

        def deliver() -> None:
            RelayWorker([rt.config["QUEUE_NAME"]], connection=worker_client(redis_url)).work(
                burst=True, logging_level="ERROR"
            )

        measure("intake_per_event", intake, n)
        measure("delivery_per_message", deliver, n)

        # the same delivery when ids come RELAY_BATCH_SIZE to a job (campaigns, the sweeper)
        from bench.kannel_throughput import queue_messages

        bulk_ids = queue_messages(rt, tenant.id, n)
        rt.dispatcher.dispatch([(mid, None) for mid in bulk_ids])
        measure("delivery_per_message_batched", deliver, n)
        from sqlalchemy import func, select

        from relay.storage.models import Message

        with rt.session() as s:
            sent = s.scalar(select(func.count()).where(Message.status.in_(["sent", "delivered"])))
        rt.engine.dispose()
    finally:
        embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    i, d = phases["intake_per_event"], phases["delivery_per_message"]
    b = phases["delivery_per_message_batched"]
    return {
        "summary": [
            f"per event at intake: {i['cpu_ms_each']} ms CPU, {i['sql_statements_each']} SQL "
            f"statements, {i['redis_commands_each']} Redis commands",
            f"per message in delivery: {d['cpu_ms_each']} ms CPU, {d['sql_statements_each']} SQL "
            f"statements, {d['redis_commands_each']} Redis commands (one job per message)",
            f"per message in delivery, {rt.config['BATCH_SIZE']} ids per job: {b['cpu_ms_each']} "
            f"ms CPU, {b['sql_statements_each']} SQL statements, {b['redis_commands_each']} "
            "Redis commands",
        ],
        **phases,
        "sent": sent,
        "settings": {
            "events": n,
            "one message per event": True,
            "database": db_url.split("@")[-1],
            "gateway": "sandbox",
            "batch_size": rt.config["BATCH_SIZE"],
        },  # fmt: skip
    }
