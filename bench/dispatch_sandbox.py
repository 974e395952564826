"""Dispatch through the sandbox gateway with all send-time checks, 2 worker processes.

    python bench/dispatch_sandbox.py [--messages 20000] [--workers 2] [--min-ratio 3] [--quick]

Side by side in one run:
  baseline: one bare RQ no-op job per message, enqueued pipelined, drained by N SimpleWorkers;
  relay:    N messages queued through intake's path (rows, then their ids on the pending list,
            taken RELAY_BATCH_SIZE at a time by drain jobs), drained by N `relay` workers:
            claim, re-decide (stop-list, consent, quiet hours …),
            sandbox send, record, receipts.
Uses RELAY_BENCH_DATABASE_URL (default: a fresh `relay_bench` database on the local PostgreSQL)
and RELAY_BENCH_REDIS_URL (default: database 14 of the local Redis).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._services import bench_database_url, bench_redis_url, machine, versions  # noqa: E402


def drain(queues: list[str], workers: int, env: dict[str, str]) -> float:
    """Start `workers` burst workers on `queues`; seconds until all have exited."""
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_burst_worker.py"), *queues], env=env, cwd=ROOT
        )
        for _ in range(workers)
    ]
    for proc in procs:
        proc.wait(timeout=900)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--quick", action="store_true", help="1,000 messages (about 25 s)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--min-ratio",
        type=float,
        default=None,
        help="exit 1 when relay/baseline falls under this (CI's smoke uses 3)",
    )
    args = ap.parse_args(argv)
    n = min(args.messages, 1000) if args.quick else args.messages
    load_before = os.getloadavg()
    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = dict(
        os.environ,
        RELAY_DATABASE_URL=db_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="bench",
        RELAY_LOG_LEVEL="WARNING",
        BENCH_REDIS_URL=redis_url,
        PYTHONPATH=str(ROOT),
    )
    os.environ.update(
        {
            k: env[k]
            for k in (
                "RELAY_DATABASE_URL",
                "RELAY_REDIS_URL",
                "RELAY_SECRET_KEY",
                "RELAY_LOG_LEVEL",
            )
        }
    )
    from redis import Redis
    from rq import Queue
    from sqlalchemy import func, insert, select

    from relay.storage.db import upgrade
    from relay.storage.models import Message, MessageHistory
    from relay.storage.types import new_id
    from relay.tenancy.tenants import create_tenant
    from relay.wiring import build_runtime

    upgrade(db_url)
    redis = Redis.from_url(redis_url)
    redis.flushdb()

    # baseline: a bare RQ job per message
    queue = Queue("bench-noop", connection=redis)
    for i in range(0, n, 5000):
        queue.enqueue_many(
            [
                Queue.prepare_data("bench._noop.noop", args=(str(j),), result_ttl=0)
                for j in range(i, min(n, i + 5000))
            ]
        )
    base_s = drain(["bench-noop"], args.workers, env)

    # relay: queued messages with their history rows, as intake leaves them
    rt = build_runtime({})
    now = datetime.now(UTC)
    with rt.session() as s:
        tenant = create_tenant(
            s, "bench-dispatch", "BY", None, {"transactional_quiet_hours": False}
        )
        s.commit()
        ids = [new_id() for _ in range(n)]
        rows = [
            {
                "id": mid,
                "tenant_id": tenant.id,
                "phone": f"+3752912{i % 100000:05d}",
                "channel": "sms",
                "category": "transactional",
                "text": "Заказ №727 принят",
                "status": "queued",
                "segments": 1,
                "encoding": "ucs2",
                "attempts": 0,
                "urgent": False,
                "created_at": now,
                "updated_at": now,
                "enqueued_at": now,
            }
            for i, mid in enumerate(ids)
        ]
        for i in range(0, n, 5000):
            s.execute(insert(Message), rows[i : i + 5000])
            s.execute(
                insert(MessageHistory),
                [
                    {"message_id": r["id"], "status": "queued", "at": now}
                    for r in rows[i : i + 5000]
                ],
            )
        s.commit()
    rt.dispatcher.dispatch([(mid, None) for mid in ids], now)
    relay_s = drain([rt.config["QUEUE_NAME"], "relay-writeback"], args.workers, env)
    with rt.session() as s:
        done = dict(s.execute(select(Message.status, func.count()).group_by(Message.status)).all())
    sent_by_sandbox = redis.llen("relay:sandbox:sent")

    base_rate, relay_rate = n / base_s, n / relay_s
    result: dict[str, Any] = {
        "bench": "dispatch_sandbox",
        "machine": machine(),
        "versions": versions(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "settings": {"messages": n, "workers": args.workers, "batch": rt.config["BATCH_SIZE"]},
        "baseline_jobs_per_s": round(base_rate, 1),
        "relay_messages_per_s": round(relay_rate, 1),
        "ratio": round(relay_rate / base_rate, 2),
        "statuses": done,
        "sandbox_sends": sent_by_sandbox,
    }
    print(json.dumps(result, ensure_ascii=False))
    print(f"machine: {machine()}")
    print(f"versions: {versions()}")
    print(
        f"database: {db_url.split('@')[-1]}, redis: {redis_url}, workers: {args.workers} "
        f"processes, batch: {rt.config['BATCH_SIZE']} ids per job, messages: {n}"
    )
    print(f"baseline (bare RQ no-op job per message): {base_rate:,.0f} jobs/s ({base_s:.1f} s)")
    print(
        f"relay dispatch through the sandbox:       {relay_rate:,.0f} messages/s ({relay_s:.1f} s)"
    )
    print(f"ratio relay/baseline: {relay_rate / base_rate:.2f}")
    print(f"final statuses: {done}; sandbox sends recorded: {sent_by_sandbox}")
    print(
        f"dispatch_sandbox: relay {relay_rate:,.0f} msg/s, bare RQ job per message "
        f"{base_rate:,.0f} jobs/s, ratio {relay_rate / base_rate:.2f}; "
        f"load {load_before[0]:.1f}→{os.getloadavg()[0]:.1f}"
    )
    if args.min_ratio is not None and relay_rate / base_rate < args.min_ratio:
        print(f"FAIL: ratio {relay_rate / base_rate:.2f} is under {args.min_ratio}")
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
