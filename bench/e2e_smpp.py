"""Scenario `e2e_smpp`: end to end over SMPP, the relay and Jasmin side by side, one run.

    python bench/_scenario.py e2e_smpp OUT.json [--quick] [--seconds 20] [--clients 8]

The way stores use it: one message per HTTP request, `--clients` concurrent keep-alive
clients (bench/_loadgen.py, its own process), for `--seconds`, against
  relay:  `relay web` (gunicorn, 2 processes × 4 threads) + 2 `relay worker` processes,
          POST /v1/events `message.requested` (every intake and send-time check, every
          record), an `smpp` gateway;
  jasmin: Jasmin (PyPI `jasmin`, in its own venv bench/.jasmin-venv, bench/_jasmin.py) with
          the local RabbitMQ and Redis, POST /send of its HTTP API, an SMPP client connector;
both bound to the same SMSC (bench/_smsc.py: tests/support/smsc_server.py's FakeSmsc in a
process of its own), one after the other. Counted: requests/s accepted (relay: 202; Jasmin:
"Success"), messages/s delivered at the SMSC (from the phase's start to its last submit_sm,
the backlog drained for up to `--drain` s), CPU ms per message of each side's processes.
Without Jasmin or RabbitMQ (`relay bench` installs both first, bench/_install.py) the Jasmin
side is reported skipped with the command that installs what is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._procs import (  # noqa: E402
    descendants,
    free_port,
    peak_rss_mb,
    relay_env,
    start_web,
    start_workers,
    stop,
    tree_cpu_seconds,
    wait_http,
)

SMSC_USER, SMSC_PASSWORD = "relay", "secret"


class Smsc:
    """bench/_smsc.py as a child process; `count()` reads its status file."""

    def __init__(self, tmp: Path) -> None:
        self.status = tmp / "smsc.json"
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_smsc.py"), str(self.status),
             "--system-id", SMSC_USER, "--password", SMSC_PASSWORD],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        while not self.status.exists():
            time.sleep(0.05)

    def state(self) -> dict[str, Any]:
        for _ in range(20):
            try:
                return dict(json.loads(self.status.read_text()))
            except (OSError, ValueError):
                time.sleep(0.02)
        raise RuntimeError("the SMSC's status file cannot be read")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def load(kind: str, url: str, seconds: float, clients: int, cred: str, tmp: Path) -> dict[str, Any]:
    out = tmp / f"load-{kind}.json"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "_loadgen.py"), kind, url, str(seconds),
         str(clients), str(out), cred], check=True, cwd=ROOT, timeout=seconds + 60,
    )  # fmt: skip
    return dict(json.loads(out.read_text()))


def drain(smsc: Smsc, expected: int, start_count: int, patience: float) -> dict[str, Any]:
    """Wait until the SMSC has `expected` more submits, or none came for 3 s, or `patience`."""
    deadline, last_change, seen = time.monotonic() + patience, time.monotonic(), -1
    while time.monotonic() < deadline:
        state = smsc.state()
        if state["submits"] - start_count >= expected:
            break
        if state["submits"] != seen:
            seen, last_change = state["submits"], time.monotonic()
        elif time.monotonic() - last_change > 3:
            break
        time.sleep(0.2)
    return smsc.state()


def phase(
    name: str, smsc: Smsc, url: str, cred: str, roots: list[int], args: Any, tmp: Path
) -> dict[str, Any]:
    """Drive one gateway: load for args.seconds, drain, count at the SMSC, CPU of its tree."""
    before = smsc.state()
    cpu0, t0 = tree_cpu_seconds(roots), time.time()
    smsc_cpu0 = tree_cpu_seconds([smsc.proc.pid])
    result = load(name, url, args.seconds, args.clients, cred, tmp)
    after = drain(smsc, result["accepted"], before["submits"], args.drain)
    cpu = tree_cpu_seconds(roots) - cpu0
    smsc_cpu = tree_cpu_seconds([smsc.proc.pid]) - smsc_cpu0  # is the SMSC itself the limit?
    delivered = after["submits"] - before["submits"]
    span = max(after["last"] - t0, 1e-6) if delivered else None
    return {
        "requests_per_s": round(result["requests"] / result["seconds"], 1),
        "accepted_per_s": round(result["accepted"] / result["seconds"], 1),
        "accepted": result["accepted"],
        "errors": result["errors"],
        "refused": result.get("refused"),
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "delivered_at_smsc": delivered,
        "delivered_per_s": round(delivered / span, 1) if span else 0.0,
        "not_delivered_after_drain": max(0, result["accepted"] - delivered),
        "smsc_binds": after.get("binds", 0) - before.get("binds", 0),
        "cpu_ms_per_message": round(1000 * cpu / delivered, 2) if delivered else None,
        "loadgen_cpu_s": result["cpu_s"],
        "smsc_cpu_ms_per_message": round(1000 * smsc_cpu / delivered, 3) if delivered else None,
    }


def start_relay(smsc: Smsc, tmp: Path) -> tuple[list[subprocess.Popen[bytes]], str, str]:
    """Migrate a fresh database, a tenant on an `smpp` gateway, web + 2 workers."""
    from bench._services import bench_database_url, bench_redis_url

    db_url, redis_url = bench_database_url(), bench_redis_url()
    env = relay_env(db_url, redis_url, RELAY_SPOOL_DIR=str(tmp / "spool"), RELAY_HOME=str(tmp))
    os.environ.update(env)
    from redis import Redis
    from sqlalchemy import select

    Redis.from_url(redis_url).flushdb()
    subprocess.run([sys.executable, "-m", "relay.cli", "db", "upgrade"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    from relay.gateways.provider_admin import save_provider
    from relay.storage.models import Provider, TenantProvider
    from relay.tenancy.tenants import create_key, create_tenant
    from relay.wiring import build_runtime

    rt = build_runtime({})
    with rt.session() as s:
        tenant = create_tenant(s, "bench-e2e", "BY", None, {"transactional_quiet_hours": False})
        config = {"host": "127.0.0.1", "port": smsc.port, "system_id": SMSC_USER,
                  "password": SMSC_PASSWORD, "source_addr": "SHOP"}  # fmt: skip
        save_provider(s, "smsc", "smpp", config, rt.secrets)
        pid = s.scalar(select(Provider.id).where(Provider.name == "smsc"))
        s.add(TenantProvider(tenant_id=tenant.id, provider_id=pid, position=0))
        _row, key = create_key(s, tenant, ["events:write"])
        s.commit()
    rt.engine.dispose()
    port = free_port()
    web = start_web(env, port)
    procs = [web, *start_workers(env, 2)]
    wait_http(f"http://127.0.0.1:{port}/healthz", 60, web)
    return procs, f"http://127.0.0.1:{port}/v1/events", key


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--drain", type=float, default=None)
    ap.add_argument("--skip-jasmin", action="store_true")
    args = ap.parse_args(argv)
    args.seconds = args.seconds or (3.0 if args.quick else 20.0)
    args.drain = args.drain or (3.0 if args.quick else 60.0)
    tmp = Path(tempfile.mkdtemp(prefix="relay-e2e-"))
    smsc = Smsc(tmp)
    out: dict[str, Any] = {"settings": {"seconds": args.seconds, "clients": args.clients,
                                        "relay": "gunicorn 2×4 threads + 2 workers",
                                        "smsc": "bench/_smsc.py (FakeSmsc)"}}  # fmt: skip
    rss: dict[str, float] = {}
    try:
        procs, url, key = start_relay(smsc, tmp)
        try:
            out["relay"] = phase("relay", smsc, url, key, [p.pid for p in procs], args, tmp)
            web_pids = descendants(procs[0].pid)
            rss["relay web (gunicorn worker, max)"] = max(
                (peak_rss_mb(p) or 0.0) for p in web_pids or [procs[0].pid]
            )
            rss["relay worker (max)"] = max((peak_rss_mb(p.pid) or 0.0) for p in procs[1:])
        finally:
            stop(procs)
        if args.skip_jasmin:
            out["jasmin"] = {"status": "skipped", "reason": "--skip-jasmin"}
        else:
            from bench import _jasmin

            out["jasmin"] = _jasmin.run(smsc, tmp, lambda url, cred, roots: phase(
                "jasmin", smsc, url, cred, roots, args, tmp))  # fmt: skip
    finally:
        smsc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    relay, jasmin = out["relay"], out.get("jasmin", {})
    summary = [
        f"relay:  {relay['accepted_per_s']:,.0f} requests/s accepted (p99 {relay['p99_ms']} ms), "
        f"{relay['delivered_per_s']:,.0f} messages/s at the SMSC, "
        f"{relay['cpu_ms_per_message']} ms CPU per message"
    ]
    if "delivered_per_s" in jasmin:
        summary.append(
            f"jasmin: {jasmin['accepted_per_s']:,.0f} requests/s accepted (p99 "
            f"{jasmin['p99_ms']} ms), {jasmin['delivered_per_s']:,.0f} messages/s at the SMSC, "
            f"{jasmin['cpu_ms_per_message']} ms CPU per message"
        )
        if jasmin["delivered_per_s"] and jasmin["accepted_per_s"]:
            out["ratio_delivered"] = round(relay["delivered_per_s"] / jasmin["delivered_per_s"], 2)
            out["ratio_accepted"] = round(relay["accepted_per_s"] / jasmin["accepted_per_s"], 2)
            summary.append(
                f"relay / jasmin: delivered {out['ratio_delivered']}, accepted "
                f"{out['ratio_accepted']} (target ≥ 1.0 each)"
            )
    else:
        summary.append(f"jasmin: {jasmin.get('status')}: {jasmin.get('reason')}")
    out["summary"] = summary
    out["peak_rss_mb"] = rss
    return out
