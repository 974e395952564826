"""Kannel throughput: smsbox's own sendsms acceptance rate against the relay's rate through it.

    python bench/kannel_throughput.py [--messages 3000] [--workers 2] [--concurrency 2]

One run starts a real Kannel (bearerbox + smsbox, fake SMSC drained by a thread) on loopback
ports and measures, with the same number of requests in flight (workers × concurrency):
  kannel: the adapter's exact sendsms queries fired straight at smsbox from threads, one
          keep-alive requests.Session each (and again with urllib3, the adapter's client);
  relay:  as many messages queued as intake leaves them (rows + history + ids in jobs of
          RELAY_BATCH_SIZE), drained by `relay worker --burst` processes through the `kannel`
          provider (claim, send-time policy, sendsms, record) until all are `sent`;
  wrk:    when `wrk` is installed, 3 s of the same query from a native client: what Kannel
          itself can take on this machine.
Database: RELAY_BENCH_DATABASE_URL, else a temporary SQLite file. Redis: RELAY_BENCH_REDIS_URL,
else an embedded redis-server. `--dlr-mask 31` adds Kannel's reports (to a local sink).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT = "Заказ №727 принят. Сумма 29.35 BYN."  # the default flow's text: UCS-2, one part


class _Sink(BaseHTTPRequestHandler):
    """Kannel's report callbacks land here and are answered at once, empty."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the given processes have used so far (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def children_cpu() -> float:
    """CPU seconds of finished child processes (the relay workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def direct(urls: list[str], threads: int, client: str, timeout: float) -> tuple[float, int]:
    """GET every URL from `threads` threads with `client`; (seconds, answers other than 202)."""
    import requests
    import urllib3

    lock, refused, todo = threading.Lock(), [0], iter(urls)

    def run() -> None:
        if client == "requests":
            session = requests.Session()
            get: Callable[[str], int] = lambda u: session.get(u, timeout=timeout).status_code  # noqa: E731
        else:
            pool = urllib3.PoolManager(maxsize=1, retries=False, timeout=timeout)
            get = lambda u: pool.request("GET", u).status  # noqa: E731
        while True:
            with lock:
                url = next(todo, None)
            if url is None:
                return
            if get(url) != 202:
                with lock:
                    refused[0] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout * len(urls))
    return time.perf_counter() - started, refused[0]


def queue_messages(rt: Any, tenant_id: str, n: int) -> list[str]:
    """n queued messages with their history rows, as intake leaves them; their ids."""
    from sqlalchemy import insert

    from relay.storage.models import Message, MessageHistory
    from relay.storage.types import new_id

    now = datetime.now(UTC)
    ids = [new_id() for _ in range(n)]
    common = {
        "tenant_id": tenant_id,
        "channel": "sms",
        "category": "transactional",
        "text": TEXT,
        "status": "queued",
        "segments": 1,
        "encoding": "ucs2",
        "attempts": 0,
        "urgent": False,
        "created_at": now,
        "updated_at": now,
        "enqueued_at": now,
    }
    rows = [{"id": mid, "phone": f"+3752912{i:05d}", **common} for i, mid in enumerate(ids)]
    with rt.session() as s:
        for i in range(0, n, 5000):
            s.execute(insert(Message), rows[i : i + 5000])
            history = [
                {"message_id": r["id"], "status": "queued", "at": now} for r in rows[i : i + 5000]
            ]
            s.execute(insert(MessageHistory), history)
        s.commit()
    return ids


def setup_relay(config: dict[str, Any]) -> tuple[Any, str]:
    """Migrate, build a runtime and a tenant sending through the `kannel` provider."""
    from sqlalchemy import select

    from relay.gateways.provider_admin import save_provider
    from relay.storage.db import upgrade
    from relay.storage.models import Provider, TenantProvider
    from relay.tenancy.tenants import create_tenant
    from relay.wiring import build_runtime

    upgrade(os.environ["RELAY_DATABASE_URL"])
    rt = build_runtime({})
    rt.redis.flushdb()
    with rt.session() as s:
        tenant = create_tenant(s, "bench-kannel", "BY", None, {"transactional_quiet_hours": False})
        save_provider(s, "kannel", "kannel", dict(config), rt.secrets)
        pid = s.scalar(select(Provider.id).where(Provider.name == "kannel"))
        s.add(TenantProvider(tenant_id=tenant.id, provider_id=pid, position=0))
        s.commit()
        return rt, tenant.id


def relay_run(rt: Any, n: int, workers: int, timeout: float) -> tuple[float, float]:
    """Time `workers` burst workers until all n are `sent`: (wall s, first-to-last-sent s)."""
    from sqlalchemy import func, select

    from relay.storage.models import Message

    def sent() -> int:
        with rt.session() as s:
            return s.scalar(select(func.count()).where(Message.status == "sent"))

    argv = [
        sys.executable,
        "-m",
        "relay.cli",
        "worker",
        "--burst",
        "--no-sweeper",
        "--no-scheduler",
    ]
    started, first = time.perf_counter(), None
    procs = [subprocess.Popen(argv, cwd=ROOT) for _ in range(workers)]
    try:
        while any(p.poll() is None for p in procs):
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"relay workers still running after {timeout} s")
            if first is None and sent() > 0:
                first = time.perf_counter()
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    end = time.perf_counter()
    if sent() != n:
        raise RuntimeError(f"only {sent()} of {n} messages are `sent`")
    return end - started, end - (first or started)


def wrk(url: str, connections: int) -> float | None:
    """Requests/s of 3 s of `wrk` on one URL (None without wrk)."""
    from bench import _wrk

    if not _wrk.installed():
        return None
    got = _wrk.run(url, 3, connections)
    if got["errors"]:
        raise RuntimeError(f"wrk: {got['socket_errors']} socket errors, {got['non_2xx']} refused")
    return float(got["rate"])


def wait_lines(kannel: Any, total: int, timeout: float) -> None:
    """Until the fake SMSC has read `total` MT lines in all (its reader thread drains them)."""
    deadline = time.monotonic() + timeout
    while kannel.lines.qsize() < total:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the SMSC got {kannel.lines.qsize()} of {total} MT")
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2, help="relay worker processes")
    ap.add_argument("--concurrency", type=int, default=2, help="sendsms in flight per worker")
    ap.add_argument("--dlr-mask", type=int, default=0, help="31: reports too")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per phase at most")
    args = ap.parse_args()
    n, threads = max(1, min(args.messages, 50_000)), args.workers * args.concurrency

    from bench._services import machine
    from relay.adapters.embedded_redis import EmbeddedRedis
    from relay.providers.base import OutboundMessage
    from relay.providers.kannel import KannelProvider
    from relay.storage.types import new_id
    from tests.support.kannel import KannelHarness

    tmp = Path(tempfile.mkdtemp(prefix="kannel-bench-"))
    db_url = f"sqlite:///{tmp / 'relay.db'}"
    if os.environ.get("RELAY_BENCH_DATABASE_URL"):
        from bench._services import bench_database_url

        db_url = bench_database_url()  # that database, emptied
    embedded = None if os.environ.get("RELAY_BENCH_REDIS_URL") else EmbeddedRedis(tmp / "redis")
    redis_url = embedded.start() if embedded else os.environ["RELAY_BENCH_REDIS_URL"]
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    sink.hits = 0  # type: ignore[attr-defined]
    threading.Thread(target=sink.serve_forever, args=(0.1,), daemon=True).start()
    public = f"http://127.0.0.1:{sink.server_port}"
    os.environ.update(
        RELAY_DATABASE_URL=db_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="bench",
        RELAY_LOG_LEVEL="WARNING",
        RELAY_PUBLIC_URL=public,
        PYTHONPATH=str(ROOT),
    )
    kannel = KannelHarness(tmp / "kannel")
    results: dict[str, Any] = {}
    try:
        kannel.start(f"{public}/inbound")
        config = kannel.provider_config(dlr_mask=args.dlr_mask, concurrency=args.concurrency)
        gw = KannelProvider("kannel", config, callback_base=f"{public}/callbacks/kannel/t")

        def urls(count: int) -> list[str]:
            msgs = [OutboundMessage(new_id(), f"+3752911{i:05d}", TEXT) for i in range(count)]
            return [f"{gw.config['sendsms_url']}?{urlencode(gw.sendsms_params(m))}" for m in msgs]

        sent_so_far = 0
        for client in ("requests", "urllib3"):
            boxes, own = cpu_seconds(kannel.pids), time.process_time()
            results[client] = direct(urls(n), threads, client, args.timeout)
            sent_so_far += n
            wait_lines(kannel, sent_so_far, args.timeout)
            results[f"{client}_cpu"] = (cpu_seconds(kannel.pids) - boxes, time.process_time() - own)

        rt, tenant_id = setup_relay(config)
        ids = queue_messages(rt, tenant_id, n)
        rt.dispatcher.dispatch([(mid, None) for mid in ids])
        boxes, workers_cpu = cpu_seconds(kannel.pids), children_cpu()
        results["relay"] = relay_run(rt, n, args.workers, args.timeout)
        sent_so_far += n
        wait_lines(kannel, sent_so_far, args.timeout)
        results["relay_cpu"] = (cpu_seconds(kannel.pids) - boxes, children_cpu() - workers_cpu)
        results["wrk"] = wrk(urls(1)[0], threads)
        batch = rt.config["BATCH_SIZE"]
    finally:
        kannel.stop()
        sink.shutdown()
        if embedded:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, n, threads, db_url, redis_url, batch, results, sink.hits, machine())  # type: ignore[attr-defined]


def report(
    args: Any,
    n: int,
    threads: int,
    db_url: str,
    redis_url: str,
    batch: int,
    r: dict[str, Any],
    reports: int,
    machine: str,
) -> None:
    """Print the rates side by side."""
    base_s, refused = r["requests"]
    u3_s, u3_refused = r["urllib3"]
    wall_s, steady_s = r["relay"]
    base, u3, relay = n / base_s, n / u3_s, n / steady_s
    print(f"machine: {machine}; nproc {os.cpu_count()}")
    print(
        f"database: {db_url.split('@')[-1]}; redis: {redis_url}; messages: {n}; in flight: "
        f"{threads} ({args.workers} workers x {args.concurrency}); dlr-mask {args.dlr_mask}; "
        f"batch {batch} ids per job"
    )
    print(
        f"kannel direct, requests.Session:   {base:7,.0f} msg/s ({base_s:.2f} s, "
        f"{refused} refused; CPU s: boxes {r['requests_cpu'][0]:.2f}, "
        f"client {r['requests_cpu'][1]:.2f})"
    )
    print(
        f"kannel direct, urllib3:            {u3:7,.0f} msg/s ({u3_s:.2f} s, "
        f"{u3_refused} refused; CPU s: boxes {r['urllib3_cpu'][0]:.2f}, "
        f"client {r['urllib3_cpu'][1]:.2f})"
    )
    print(
        f"relay via the kannel provider:     {relay:7,.0f} msg/s ({steady_s:.2f} s from the "
        f"first `sent`; {n / wall_s:,.0f} msg/s over {wall_s:.2f} s with worker start-up; "
        f"CPU s: boxes {r['relay_cpu'][0]:.2f}, workers {r['relay_cpu'][1]:.2f})"
    )
    if r["wrk"] is not None:
        print(f"kannel capacity (wrk, {threads} connections): {r['wrk']:,.0f} req/s")
    print(f"ratio relay / kannel direct (requests.Session): {relay / base:.2f}")
    print(f"ratio relay / kannel direct (urllib3):          {relay / u3:.2f}  (goal >= 0.9)")
    print(f"reports received by the sink: {reports}")


if __name__ == "__main__":
    main()
