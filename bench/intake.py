"""Intake over HTTP at rising concurrency, with the web server's own `/healthz` as the baseline.

    python bench/intake.py [--quick] [--seconds 15] [--concurrency 8,32,64] [--web-workers 2]
                           [--profile DIR] [--json]

Starts `relay web` (gunicorn, gthread) on PostgreSQL + Redis — `RELAY_BENCH_DATABASE_URL`
(default: a fresh `relay_bench` database on the local PostgreSQL) and `RELAY_BENCH_REDIS_URL`
— and drives it from a second process with `wrk` (Debian package `wrk`). At each concurrency,
one after the other so they share the machine's conditions:

- `healthz`: `GET /healthz` (one database and one Redis round trip, no authentication);
- `events`: `POST /v1/events`, a `message.requested` event with its own event_id and phone
  each time (one transactional SMS decided and written per event);
- `woocommerce`: signed WooCommerce `order.updated` webhooks (distinct bodies, each with its
  own delivery id) on `/connectors/woocommerce/webhook`.

Each figure carries the 1-minute load average read just before it ran: the machine is shared,
so the ratios of one run are what count. The targets: events and webhooks each at least 0.8×
the `/healthz` rate and a p99 under 50 ms, at every concurrency measured; `ratio` and
`p99_ms` are the worst of them. `--quick` runs 2 s at c=8 and c=32 (about 30 s in all).
`--profile DIR` records the web workers with py-spy (when installed; samples holding the GIL,
i.e. CPU) during the events and webhook runs at the highest concurrency: a speedscope file and
a flame graph.

`main(argv)` returns the figures as a dict (`relay bench` calls it); without `wrk` it returns
the scenario skipped, with the command that installs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _wrk  # noqa: E402
from bench._install import missing  # noqa: E402
from bench._procs import free_port, relay_env, start_web, stop, wait_http  # noqa: E402
from bench._services import bench_database_url, bench_redis_url, machine, versions  # noqa: E402
from relay.cli import WEB_THREADS  # noqa: E402

TARGET_RATIO = 0.8  # of GET /healthz's rate on the same server, same run
TARGET_P99_MS = 50.0
STORE = "https://bench-shop.example.by"
WOO_SECRET = "bench-webhook-secret-0123456789"
WOO_BODIES = 2000  # distinct signed orders, cycled; every request has its own delivery id

EVENTS_LUA = r"""
local counter = 0
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
request = function()
  counter = counter + 1
  local body = string.format('{"event_id":"bench-%s-%s-%d","type":"message.requested",'
    .. '"occurred_at":"2026-11-22T12:00:00+03:00",'
    .. '"source":{"platform":"bench","account":"b"},'
    .. '"customer":{"phone":"+3752912%05d","name":"Anna","timezone":"Europe/Minsk"},'
    .. '"message":{"text":"Order %d is ready","channel":"sms","category":"transactional"}}',
    RUN, tid, counter, counter % 100000, counter)
  return wrk.format("POST", "/v1/events", {["Authorization"]="Bearer " .. KEY,
    ["Content-Type"]="application/json"}, body)
end
"""

WOO_LUA = r"""
local counter = 0
local bodies = {}
local sigs = {}
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
function init(args)
  for line in io.lines(BODIES) do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    table.insert(sigs, sig)
    table.insert(bodies, body)
  end
end
request = function()
  counter = counter + 1
  local i = (counter % #bodies) + 1
  return wrk.format("POST", "/connectors/woocommerce/webhook", {
    ["Content-Type"]="application/json",
    ["X-WC-Webhook-Source"]=STORE .. "/",
    ["X-WC-Webhook-Topic"]="order.updated",
    ["X-WC-Webhook-Resource"]="order",
    ["X-WC-Webhook-Event"]="updated",
    ["X-WC-Webhook-ID"]="7",
    ["X-WC-Webhook-Delivery-ID"]=RUN .. "-" .. tid .. "-" .. counter,
    ["X-WC-Webhook-Signature"]=sigs[i]}, bodies[i])
end
"""


def _woo_bodies(path: Path) -> None:
    """Signed WooCommerce order bodies, compact as PHP's json_encode writes them."""
    from connectors.woocommerce.signature import sign

    with path.open("w") as fh:
        for n in range(WOO_BODIES):
            order = {
                "id": 10000 + n,
                "number": str(10000 + n),
                "status": "processing" if n % 2 else "completed",
                "currency": "BYN",
                "total": "29.35",
                "date_modified_gmt": "2026-01-15T11:50:08",
                "billing": {
                    "first_name": "Anna",
                    "phone": f"+3752913{n % 100000:05d}",
                    "country": "BY",
                },
                "meta_data": [],
                "line_items": [{"name": "Tea", "quantity": 1, "total": "19.35"}],
            }
            body = json.dumps(order, separators=(",", ":"))
            fh.write(f"{sign(body.encode(), WOO_SECRET)}\t{body}\n")


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


def _profiled(
    pids: list[int], out_dir: Path, seconds: float, tag: str
) -> list[subprocess.Popen[bytes]]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for pid in pids:
        for fmt, ext in (("speedscope", "json"), ("flamegraph", "svg")):
            procs.append(
                subprocess.Popen(
                    [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "--gil"]
                    + ["-f", fmt, "-o", str(out_dir / f"{tag}-{pid}.{ext}"), "--nonblocking"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return procs


def _setup(env: dict[str, str], base: str) -> str:
    """A tenant, an API key, the WooCommerce store installed; returns the key."""
    import requests

    from relay.content.flowdefs import default_flows, load_flows
    from relay.storage.db import make_engine, make_session_factory
    from relay.tenancy.tenants import create_key, create_tenant

    engine = make_engine(env["RELAY_DATABASE_URL"])
    session = make_session_factory(engine)()
    try:  # what `relay tenants create` and `relay keys create` do, without two interpreters
        tenant = create_tenant(session, "bench", "BY")
        load_flows(session, tenant, default_flows())
        _row, key = create_key(session, tenant, ["events:write", "admin"])
        session.commit()
    finally:
        session.close()
        engine.dispose()
    got = requests.post(
        base + "/connectors/woocommerce/installations",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "store_url": STORE,
            "webhook_secret": WOO_SECRET,
            "consumer_key": "ck_" + "0" * 40,
            "consumer_secret": "cs_" + "0" * 40,
            "default_region": "BY",
        },
        timeout=10,
    )
    if got.status_code not in (200, 201):
        raise RuntimeError(f"installing the bench store failed: {got.status_code} {got.text}")
    check = requests.post(
        base + "/v1/events",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "event_id": "bench-check",
            "type": "message.requested",
            "occurred_at": "2026-11-22T12:00:00+03:00",
            "customer": {"phone": "+375291234567"},
            "message": {"text": "check", "channel": "sms", "category": "transactional"},
        },
        timeout=10,
    )
    if check.status_code != 202 or len(check.json().get("messages", [])) != 1:
        raise RuntimeError(f"the bench event was not accepted: {check.status_code} {check.text}")
    return key


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 s runs at c=8 and c=32 (about 30 s)")
    ap.add_argument("--seconds", type=float, default=None, help="per run (default 15, quick 2)")
    ap.add_argument("--concurrency", default=None, help="comma separated (default 8,32,64)")
    ap.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (2 cores: 2)")
    ap.add_argument("--profile", type=Path, default=None, help="py-spy output directory")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the bench; the figures as a dict (also printed)."""
    args = parse_args(argv)
    if reason := missing("wrk"):
        return {"status": "skipped", "reason": reason}
    seconds = args.seconds or (2.0 if args.quick else 15.0)
    levels = [
        int(c) for c in (args.concurrency or ("8,32" if args.quick else "8,32,64")).split(",")
    ]
    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = relay_env(db_url, redis_url)
    from redis import Redis

    from relay.storage.db import upgrade

    Redis.from_url(redis_url).flushdb()
    upgrade(db_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="relay-bench-intake-"))
    web = start_web(env, port, workers=args.web_workers)
    figures: dict[str, Any] = {
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "database": db_url.rsplit("@", 1)[-1],
            "redis": redis_url,
            "web": f"relay web --workers {args.web_workers} (gthread, {WEB_THREADS} threads)",
            "load_generator": "wrk, 2 threads",
            "seconds": seconds,
            "concurrency": levels,
        },
        "runs": [],
    }
    try:
        wait_http(base + "/healthz", 30, web)
        key = _setup(env, base)
        runs = iter(range(1_000_000))
        bodies = work / "woo-bodies.tsv"
        _woo_bodies(bodies)

        def script(name: str) -> str:
            # every wrk run gets its own RUN: its event ids and delivery ids are new
            run = f'RUN = "{os.getpid()}-{next(runs)}"\n'
            if name == "events":
                return run + f'KEY = "{key}"\n' + EVENTS_LUA
            if name == "woocommerce":
                return run + f'STORE = "{STORE}"\nBODIES = "{bodies}"\n' + WOO_LUA
            return ""  # healthz: a plain GET of the URL

        urls = {"healthz": base + "/healthz", "events": base + "/", "woocommerce": base + "/"}
        _wrk.run(urls["events"], 1, levels[0], script("events"))  # warm-up: imports, pools
        for level in levels:
            row: dict[str, Any] = {"concurrency": level}
            for name in ("healthz", "events", "woocommerce"):
                spies = []
                if args.profile and name != "healthz" and level == levels[-1]:
                    spies = _profiled(_worker_pids(web.pid), args.profile, seconds, name)
                row[name] = _wrk.run(urls[name], seconds, level, script(name))
                for spy in spies:
                    spy.wait(30)
            health = row["healthz"]["rate"] or 1.0
            row["events_ratio"] = round(row["events"]["rate"] / health, 2)
            row["woocommerce_ratio"] = round(row["woocommerce"]["rate"] / health, 2)
            figures["runs"].append(row)
            _print_row(row)
    finally:
        stop([web])
        shutil.rmtree(work, ignore_errors=True)
    figures["rows"] = _row_counts(db_url)
    figures.update(_targets(figures["runs"]))
    if args.json:
        print(json.dumps(figures, indent=2))
    return figures


def _targets(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst ratio to /healthz and the worst p99 of events and webhooks, at any level."""
    kinds = ("events", "woocommerce")
    ratio, ratio_at = min((row[f"{k}_ratio"], f"{k}, c={row['concurrency']}")
                          for row in runs for k in kinds)  # fmt: skip
    p99, p99_at = max((row[k]["p99_ms"], f"{k}, c={row['concurrency']}")
                      for row in runs for k in kinds)  # fmt: skip
    errors = sum(row[k]["errors"] for row in runs for k in kinds)
    return {
        "summary": [
            f"c={row['concurrency']}: /healthz {row['healthz']['rate']:,.0f} req/s; events "
            f"{row['events']['rate']:,.0f} req/s ({row['events_ratio']}×, p99 "
            f"{row['events']['p99_ms']:.0f} ms); webhooks {row['woocommerce']['rate']:,.0f} "
            f"req/s ({row['woocommerce_ratio']}×, p99 {row['woocommerce']['p99_ms']:.0f} ms)"
            for row in runs
        ],
        "ratio": ratio,
        "ratio_at": ratio_at,
        "target_ratio": TARGET_RATIO,
        "p99_ms": p99,
        "p99_at": p99_at,
        "target_p99_ms": TARGET_P99_MS,
        "errors": errors,
        "met": ratio >= TARGET_RATIO and p99 < TARGET_P99_MS and not errors,
    }


def _row_counts(db_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
                for table in ("events", "messages", "connector_inbox")
            }
    except Exception:  # a table renamed elsewhere must not lose the figures
        return {}
    finally:
        engine.dispose()


def _print_row(row: dict[str, Any]) -> None:
    c = row["concurrency"]
    for name in ("healthz", "events", "woocommerce"):
        r = row[name]
        print(
            f"c={c:<3} {name:<12} {r['rate']:>8.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms  errors {r['socket_errors']}+{r['non_2xx']} non-2xx  "
            f"load {r['load_1m']}",
            flush=True,
        )
    print(
        f"c={c:<3} ratio events/healthz {row['events_ratio']:.2f}, "
        f"woocommerce/healthz {row['woocommerce_ratio']:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
