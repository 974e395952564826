"""End to end, one event per message: `relay web` + 2 workers, sandbox gateway, 8 clients.

    python bench/event_dispatch.py [--seconds 15] [--connections 8] [--workers 2] [--quick]

Each client posts `message.requested` events (one message each) to gunicorn as fast as it is
answered (`wrk`, Debian package `wrk`, with a Lua script that makes every event_id unique).
Two runs, side by side on the same database, Redis and servers' settings:
  baseline:  RELAY_DELIVERY_COALESCE=0, each event's message its own RQ job (as before);
  coalesced: due ids on the pending list, drained in batches by long-running drain jobs.
Reports requests/s accepted (202) and messages/s delivered (at the sandbox gateway, from the
first request until nothing is left queued or sending), and the ratios. Uses
RELAY_BENCH_DATABASE_URL (default: a fresh `relay_bench` database on the local PostgreSQL) and
RELAY_BENCH_REDIS_URL (default: database 14 of the local Redis).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import _wrk  # noqa: E402
from bench._install import missing  # noqa: E402
from bench._procs import (  # noqa: E402
    free_port,
    relay_env,
    start_web,
    start_workers,
    stop,
    wait_http,
)
from bench._services import bench_database_url, bench_redis_url, machine, versions  # noqa: E402

LUA = r"""
local counter = 0
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1e9)))
end
request = function()
  counter = counter + 1
  local body = string.format([[{"event_id":"%s-%s-%d","type":"message.requested",
"occurred_at":"2026-11-22T12:00:00+03:00","customer":{"phone":"+375291%04d10"},
"message":{"text":"Заказ %d принят","channel":"sms","category":"transactional"}}]],
    RUN, tid, counter, counter % 10000, counter)
  return wrk.format("POST", "/v1/events", {["Authorization"]="Bearer " .. KEY,
    ["Content-Type"]="application/json"}, body)
end
"""
LIVE = ("queued", "sending", "scheduled")
# numbers ending in 10 are always delivered by the sandbox (no retry waits in the figures)


def setup(db_url: str, redis_url: str) -> str:
    """Migrate, flush Redis, a tenant with transactional quiet hours off; returns a key."""
    from redis import Redis

    from relay.storage.db import upgrade
    from relay.tenancy.tenants import create_key, create_tenant
    from relay.wiring import build_runtime

    upgrade(db_url)
    Redis.from_url(redis_url).flushdb()
    rt = build_runtime({})
    with rt.session() as s:
        tenant = create_tenant(s, "bench-events", "BY", None, {"transactional_quiet_hours": False})
        _, key = create_key(s, tenant, ["events:write"])
        s.commit()
    rt.engine.dispose()
    return key


def counts(db_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM messages GROUP BY status")).all()
    engine.dispose()
    return {str(k): int(v) for k, v in rows}


def one_run(
    name: str, env: dict[str, str], key: str, args: argparse.Namespace, db_url: str
) -> dict[str, Any]:
    """Start web + workers with `env`, post for args.seconds, wait for delivery; figures."""
    from redis import Redis

    before = counts(db_url)
    done_before = sum(v for k, v in before.items() if k not in LIVE)
    port = free_port()
    web = start_web(env, port)
    workers = start_workers(env, args.workers, "--no-sweeper")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", 30, web)
        started = time.perf_counter()
        lua = f'RUN = "{name}{os.getpid()}"\nKEY = "{key}"\n' + LUA
        posted = _wrk.run(base + "/", args.seconds, args.connections, lua)
        posted_s = time.perf_counter() - started
        requests_n, errors, p99 = posted["requests"], posted["errors"], posted["p99_ms"]
        deadline = time.perf_counter() + max(60, 4 * args.seconds)
        while time.perf_counter() < deadline:
            now = counts(db_url)
            if not any(now.get(s) for s in LIVE):
                break
            time.sleep(0.2)
        finished_s = time.perf_counter() - started
    finally:
        stop([web, *workers])
    after = counts(db_url)
    delivered = sum(v for k, v in after.items() if k not in LIVE) - done_before
    left = sum(after.get(s, 0) for s in LIVE)
    accepted = (requests_n - errors) / posted_s
    redis = Redis.from_url(env["RELAY_REDIS_URL"])
    return {
        "mode": name,
        "requests": requests_n,
        "errors": errors,
        "accepted_per_s": round(accepted, 1),
        "p99_ms": p99,
        "delivered": delivered,
        "left_live": left,
        "delivered_per_s": round(delivered / finished_s, 1),
        "drain_s": round(finished_s - posted_s, 2),
        "sandbox_sends": int(redis.llen("relay:sandbox:sent")),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="8 s per run (≤ 40 s in all)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds = min(args.seconds, 8)
    if reason := missing("wrk"):
        return {"status": "skipped", "reason": reason}
    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = relay_env(db_url, redis_url)
    os.environ.update({k: v for k, v in env.items() if k.startswith("RELAY_")})
    key = setup(db_url, redis_url)
    load_before = os.getloadavg()
    base = one_run("baseline", {**env, "RELAY_DELIVERY_COALESCE": "0"}, key, args, db_url)
    from redis import Redis

    Redis.from_url(redis_url).delete("relay:sandbox:sent")
    coal = one_run("coalesced", {**env, "RELAY_DELIVERY_COALESCE": "1"}, key, args, db_url)
    load_after = os.getloadavg()
    result: dict[str, Any] = {
        "bench": "event_dispatch",
        "machine": machine(),
        "versions": versions(),
        "load_average": {"before": load_before, "after": load_after},
        "settings": {
            "seconds": args.seconds,
            "connections": args.connections,
            "workers": args.workers,
            "database": db_url.split("@")[-1],
        },
        "baseline": base,
        "coalesced": coal,
        "delivered_ratio": round(coal["delivered_per_s"] / max(base["delivered_per_s"], 1e-9), 2),
        "accepted_ratio": round(coal["accepted_per_s"] / max(base["accepted_per_s"], 1e-9), 2),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(
        f"event_dispatch: coalesced {coal['delivered_per_s']:,.0f} msg/s delivered, "
        f"{coal['accepted_per_s']:,.0f} req/s accepted; baseline (job per event) "
        f"{base['delivered_per_s']:,.0f} msg/s, {base['accepted_per_s']:,.0f} req/s; ratio "
        f"delivered {result['delivered_ratio']}, accepted {result['accepted_ratio']}; "
        f"load {load_before[0]:.1f}→{load_after[0]:.1f}"
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
