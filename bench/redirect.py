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
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _wrk  # noqa: E402
from bench._install import missing  # noqa: E402
from bench._procs import free_port, relay_env, start_web, stop, wait_http  # noqa: E402
from bench._services import bench_database_url, bench_redis_url, machine  # noqa: E402

TARGET_RATIO = 0.8

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
"""


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--links", type=int, default=20000)
    ap.add_argument("--cold", action="store_true", help="links only in the database")
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4, help="gthread threads per web worker")
    args = ap.parse_args(argv)
    if reason := missing("wrk"):
        return {"status": "skipped", "reason": reason}
    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = relay_env(db_url, redis_url)
    from relay.storage.db import upgrade

    upgrade(db_url)
    from redis import Redis
    from sqlalchemy import create_engine, insert, text

    from relay.growth.links import cache_links
    from relay.storage.models import Click, Link

    Redis.from_url(redis_url).flushdb()
    tenant_id = _tenant(db_url, f"bench-links-{os.getpid()}")
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
    web = start_web(env, port, workers=args.web_workers, threads=args.threads)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "tokens.txt"
        listing.write_text("\n".join(tokens) + "\n")
        try:
            wait_http(base + "/healthz", 30, web)
            first = requests.get(f"{base}/l/{tokens[0]}", allow_redirects=False, timeout=5)
            if first.status_code != 302:
                raise RuntimeError(f"the redirect answered {first.status_code}, not 302")
            _wrk.run(base + "/healthz", 3, args.connections)  # warm-up
            health = _wrk.run(base + "/healthz", args.seconds, args.connections)
            lua = f'TOKENS = "{listing}"\n' + LUA
            redirect = _wrk.run(base + "/", args.seconds, args.connections, lua)
        finally:
            stop([web])
    from relay.growth.tick import growth_tick
    from relay.wiring import build_runtime

    rt = build_runtime(
        {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "SECRET_KEY": env["RELAY_SECRET_KEY"]}
    )
    queued = Redis.from_url(redis_url).llen("relay:clicks")
    started = time.perf_counter()
    report = growth_tick(rt)
    took = time.perf_counter() - started
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM clicks")).scalar()
    with engine.begin() as conn:  # leave the bench database as it was
        conn.execute(Click.__table__.delete().where(Click.tenant_id == tenant_id))
        conn.execute(Link.__table__.delete().where(Link.tenant_id == tenant_id))
    ratio = round(redirect["rate"] / (health["rate"] or 1.0), 2)
    lines = [
        f"machine: {machine()}",
        f"load average before the report: {os.getloadavg()}",
        f"database: {db_url.split('@')[-1]}, redis: {redis_url}, gunicorn workers: "
        f"{args.web_workers} x {args.threads} threads, wrk: 2 threads, "
        f"{args.connections} connections, {args.seconds} s each, {args.links} links",
        f"baseline GET /healthz: {health['rate']:.0f} req/s, p99 {health['p99_ms']:.1f} ms",
        f"GET /l/<token>:       {redirect['rate']:.0f} req/s, p50 {redirect['p50_ms']:.1f} ms, "
        f"p90 {redirect['p90_ms']:.1f} ms, p99 {redirect['p99_ms']:.1f} ms, "
        f"errors {redirect['errors']}",
        f"ratio redirect/healthz: {ratio:.2f} (goal ≥ {TARGET_RATIO:.2f})",
        f"clicks queued on Redis: {queued}; written by the batch step: {report.clicks} "
        f"in {took:.2f} s ({stored} rows)",
    ]
    print("\n".join(lines))
    return {
        "summary": lines[3:],
        "healthz": health,
        "redirect": redirect,
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
        "clicks": {"queued": queued, "written": report.clicks, "seconds": round(took, 2)},
        "settings": {
            "seconds": args.seconds,
            "connections": args.connections,
            "links": args.links,
            "cold": args.cold,
        },  # fmt: skip
    }


def _tenant(db_url: str, name: str) -> str:
    """A tenant for the links (what `relay tenants create` does, in this process)."""
    from relay.storage.db import make_engine, make_session_factory
    from relay.tenancy.tenants import create_tenant

    engine = make_engine(db_url)
    session = make_session_factory(engine)()
    try:
        tenant = create_tenant(session, name, "BY")
        session.commit()
        return str(tenant.id)
    finally:
        session.close()
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
