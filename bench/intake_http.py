"""Intake over HTTP: POST /v1/events against gunicorn (2 workers) on PostgreSQL + Redis.

    python bench/intake_http.py [--seconds 20] [--connections 8]

Runs `wrk` (Debian package `wrk`) with a Lua script that makes every event_id unique, first
against GET /healthz (the baseline: same server, auth-free, one DB and one Redis round trip)
and then against POST /v1/events, and prints events/s, latency percentiles and the ratio.
Only loopback addresses are used; each run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._services import bench_database_url, bench_redis_url, machine  # noqa: E402

LUA = r"""
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local body = string.format([[{"event_id":"bench-%s-%d-%d","type":"order.status_changed",
"occurred_at":"2026-11-22T12:00:00+03:00","source":{"platform":"woocommerce","account":"b"},
"customer":{"phone":"+3752912%05d","name":"Анна","timezone":"Europe/Minsk"},
"order":{"id":"%d","number":"%d","status":"processing","previous_status":"pending",
"total":"29.35","currency":"BYN"}}]], RUN, tid, counter, counter % 100000, counter, counter)
  return wrk.format("POST", "/v1/events", {["Authorization"]="Bearer " .. KEY,
    ["Content-Type"]="application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("STATS %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    stats = re.search(r"STATS (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", out)
    if stats:
        req, err, p50, p90, p99, mx = stats.groups()
        return {
            "rate": rate,
            "requests": int(req),
            "errors": int(err),
            "p50": float(p50),
            "p90": float(p90),
            "p99": float(p99),
            "max": float(mx),
        }
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {"rate": rate, "p99": float(p99.group(1)) * scale[p99.group(2)] if p99 else -1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=8)
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
    )
    subprocess.run(
        [sys.executable, "-m", "relay.cli", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "relay.cli",
            "tenants",
            "create",
            "bench",
            "--region",
            "BY",
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key_out = subprocess.run(
        [
            sys.executable,
            "-m",
            "relay.cli",
            "keys",
            "create",
            "bench",
            "--scope",
            "events:write",
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    import json

    key = json.loads(key_out)["key"]
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
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(f'RUN = "{os.getpid()}"\nKEY = "{key}"\n' + LUA)
            script = Path(fh.name)
        run_wrk(base + "/healthz", 3, args.connections, None)  # warm-up
        health = run_wrk(base + "/healthz", args.seconds, args.connections, None)
        events = run_wrk(base + "/", args.seconds, args.connections, script)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(15)
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM events")).scalar()
        msgs = conn.execute(text("SELECT count(*) FROM messages")).scalar()
    print(f"machine: {machine()}")
    print(
        f"database: {db_url.split('@')[-1]}, redis: {redis_url}, gunicorn workers: "
        f"{args.web_workers} x {args.threads} threads, wrk: 2 threads, "
        f"{args.connections} connections, "
        f"{args.seconds} s each"
    )
    print(f"baseline GET /healthz: {health['rate']:.0f} req/s, p99 {health['p99']:.1f} ms")
    print(
        f"POST /v1/events:      {events['rate']:.0f} events/s, p50 {events['p50']:.1f} ms, "
        f"p90 {events['p90']:.1f} ms, p99 {events['p99']:.1f} ms, max {events['max']:.1f} ms, "
        f"errors {events['errors']}"
    )
    print(f"ratio events/healthz: {events['rate'] / health['rate']:.2f}")
    print(f"rows written: {stored} events, {msgs} messages (wrk counted {events['requests']})")


if __name__ == "__main__":
    main()
