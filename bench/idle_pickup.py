"""How long a message waits when it arrives at a worker that has been idle for a while.

    python bench/idle_pickup.py [--idle 75] [--trials 3]

One real `relay worker` process (with RQ's scheduler, without the sweeper, so only the queue can
bring the message to it). Each trial leaves it idle for `--idle` seconds, then posts one
`message.requested` event (a transactional text) through the API and measures the time until
the sandbox has sent it.
Uses RELAY_BENCH_DATABASE_URL (default: a fresh `relay_bench` database on the local PostgreSQL)
and RELAY_BENCH_REDIS_URL (default: database 14 of the local Redis).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._services import bench_database_url, bench_redis_url, machine, versions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle", type=float, default=75.0, help="seconds of idleness before a send")
    ap.add_argument("--trials", type=int, default=3)
    args = ap.parse_args()
    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = dict(
        os.environ,
        RELAY_DATABASE_URL=db_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="bench",
        RELAY_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("RELAY_")})

    from relay import create_app
    from relay.storage.db import upgrade
    from relay.storage.models import Message
    from relay.tenancy.tenants import create_key, create_tenant
    from relay.wiring import build_runtime

    upgrade(db_url)
    rt = build_runtime({})
    rt.redis.flushdb()
    with rt.session() as s:
        tenant = create_tenant(s, "bench-idle", "BY", None, {"transactional_quiet_hours": False})
        _row, key = create_key(s, tenant, ["events:write"])
        s.commit()
    client = create_app(runtime=rt).test_client()
    worker = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "worker", "--no-sweeper"], env=env, cwd=ROOT
    )
    waits: list[float] = []
    try:
        for trial in range(args.trials):
            time.sleep(args.idle)
            if worker.poll() is not None:
                sys.exit("FAIL: the worker process died")
            posted = time.perf_counter()
            resp = client.post(
                "/v1/events",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "event_id": f"idle-{trial}",
                    "type": "message.requested",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "customer": {"phone": "+375291234567"},
                    "message": {"text": f"Заказ №{trial} принят", "category": "transactional"},
                },
            )
            [msg] = resp.get_json()["messages"]
            status = msg["status"]
            while status not in ("sent", "delivered") and time.perf_counter() - posted < 120:
                time.sleep(0.01)
                with rt.session() as s:
                    status = s.get(Message, msg["id"]).status
            waits.append(time.perf_counter() - posted)
            print(f"trial {trial + 1}: idle {args.idle:.0f} s, sent after {waits[-1]:.3f} s")
    finally:
        worker.terminate()
        worker.wait(30)
    print(f"machine: {machine()}")
    print(f"versions: {versions()}")
    median = statistics.median(waits)
    print(f"median time from event to sent after {args.idle:.0f} s idle: {median:.3f} s")


if __name__ == "__main__":
    main()
