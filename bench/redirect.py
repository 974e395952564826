"""Short-link redirects: GET /l/<token> against GET /healthz of the same server, same run.

    python bench/redirect.py [--seconds 15] [--connections 8] [--links 20000]

Creates a tenant and `--links` short links (straight into the links table), starts gunicorn
(2 workers) on PostgreSQL + Redis, and runs `wrk` first against /healthz (the baseline) and
then against the redirect, each request a random token of the set, so most lookups miss the
process's small link cache as real clicks do. The rate limiter stays on (every redirect is
counted in its per-address bucket); its per-address limit is raised so the one benchmark
client is not refused. Prints both rates, the ratio (the goal is ≥ 0.8), and how many clicks
the worker's batch step then wrote (`growth_tick`), which shows the redirect did not write
them itself. The links are put on Redis as the planner does (`--cold`: only in the database,
the path of a link older than its days on Redis). Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._services import bench_database_url, bench_redis_url, machine  # noqa: E402
from bench.intake_http import free_port, run_wrk  # noqa: E402

LUA = r"""
local tokens = {}
for line in io.lines(TOKENS) do tokens[#tokens + 1] = line end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", os.time() * 100 + threads)
end
function init(args)
  math.randomseed(seed)  -- each wrk thread its own sequence of tokens
end
request = function()
  return wrk.format("GET", "/l/" .. tokens[math.random(#tokens)])
end
done = function(summary, latency, requests)
  io.write(string.format("STATS %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--links", type=int, default=20000)
    ap.add_argument("--cold", action="store_true", help="links only in the database")
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4, help="gthread threads per web worker")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = dict(
        os.environ,
        RELAY_DATABASE_URL=db_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="bench",
        RELAY_LOG_LEVEL="WARNING",
        RELAY_RATE_LIMIT_PER_IP="1000000/second",
    )
    _cli(env, "db", "upgrade")
    from redis import Redis
    from sqlalchemy import create_engine, insert, text

    from relay.growth.links import cache_links
    from relay.storage.models import Click, Link

    Redis.from_url(redis_url).flushdb()
    name = f"bench-links-{os.getpid()}"
    tenant_id = json.loads(_cli(env, "tenants", "create", name, "--region", "BY", "--json"))["id"]
    engine = create_engine(db_url)
    now = datetime.now(UTC)
    tokens = [secrets.token_urlsafe(9) for _ in range(args.links)]
    rows = [
        {
            "token": t,
            "tenant_id": tenant_id,
            "message_id": f"bench{i:027d}",
            "campaign_id": None,
            "target": "https://shop.example.by/sale",
            "created_at": now,
            "expires_at": now + timedelta(days=1),
        }
        for i, t in enumerate(tokens)
    ]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM clicks"))
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Link), rows[start : start + 5000])
    # as the planner does after committing a chunk; --cold leaves Redis without them
    if not args.cold:
        cache_links(Redis.from_url(redis_url), rows, now)
    port = free_port()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(args.web_workers),
            "-k",
            "gthread",
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{port}",
            "relay.wsgi:app",
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "tokens.txt"
        listing.write_text("\n".join(tokens) + "\n")
        script = Path(tmp) / "redirect.lua"
        script.write_text(f'TOKENS = "{listing}"\n' + LUA)
        try:
            for _ in range(100):
                try:
                    if requests.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            first = requests.get(f"{base}/l/{tokens[0]}", allow_redirects=False, timeout=5)
            if first.status_code != 302:
                sys.exit(f"the redirect answered {first.status_code}, not 302")
            run_wrk(base + "/healthz", 3, args.connections, None)  # warm-up
            health = run_wrk(base + "/healthz", args.seconds, args.connections, None)
            redirect = run_wrk(base + "/", args.seconds, args.connections, script)
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(15)
    from relay.growth.tick import growth_tick
    from relay.wiring import build_runtime

    rt = build_runtime({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench"})
    queued = Redis.from_url(redis_url).llen("relay:clicks")
    started = time.perf_counter()
    report = growth_tick(rt)
    took = time.perf_counter() - started
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM clicks")).scalar()
    with engine.begin() as conn:  # leave the bench database as it was
        conn.execute(Click.__table__.delete().where(Click.tenant_id == tenant_id))
        conn.execute(Link.__table__.delete().where(Link.tenant_id == tenant_id))
    print(f"machine: {machine()}")
    print(f"load average before the report: {os.getloadavg()}")
    print(
        f"database: {db_url.split('@')[-1]}, redis: {redis_url}, gunicorn workers: "
        f"{args.web_workers} x {args.threads} threads, wrk: 2 threads, "
        f"{args.connections} connections, {args.seconds} s each, {args.links} links"
    )
    print(f"baseline GET /healthz: {health['rate']:.0f} req/s, p99 {health['p99']:.1f} ms")
    print(
        f"GET /l/<token>:       {redirect['rate']:.0f} req/s, p50 {redirect['p50']:.1f} ms, "
        f"p90 {redirect['p90']:.1f} ms, p99 {redirect['p99']:.1f} ms, "
        f"errors {redirect['errors']}"
    )
    print(f"ratio redirect/healthz: {redirect['rate'] / health['rate']:.2f} (goal ≥ 0.80)")
    print(
        f"clicks queued on Redis: {queued}; written by the batch step: {report.clicks} "
        f"in {took:.2f} s ({stored} rows)"
    )


if __name__ == "__main__":
    main()
