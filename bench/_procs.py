"""Processes for the bench: starting the relay's web server and workers, waiting for them,
stopping them; and their facts from /proc (CPU seconds of process trees, peak RSS as VmHWM)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from `state` on


def descendants(pid: int) -> list[int]:
    """Live descendants of pid (children, grandchildren …)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == current]
        found += kids
        frontier += kids
    return found


def tree_cpu_seconds(roots: list[int]) -> float:
    """User + system CPU of each root (with its reaped children) and its live descendants."""
    total = 0
    for root in roots:
        for pid in [root, *descendants(root)]:
            fields = _stat(pid)
            if fields:
                # utime, stime, cutime, cstime: fields 14-17 of stat, 11-14 after `state`
                total += sum(int(x) for x in fields[11:15])
    return total / TICK


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def relay_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """This process's environment with the relay pointed at the bench's database and Redis.

    The rate limiter stays on (its cost is part of what is measured) with limits no bench
    client reaches; `extra` adds or overrides settings."""
    return dict(
        os.environ,
        RELAY_DATABASE_URL=database_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="bench-secret-key",
        RELAY_LOG_LEVEL="WARNING",
        RELAY_RATE_LIMIT_PER_KEY="1000000/second",
        RELAY_RATE_LIMIT_PER_IP="1000000/second",
        RELAY_RATE_LIMIT_WEBHOOK="1000000/second",
        PYTHONPATH=str(ROOT),
        **extra,
    )


def cli(env: dict[str, str], *args: str) -> str:
    """`relay ARGS…` run to its end; its standard output."""
    done = subprocess.run([sys.executable, "-m", "relay.cli", *args], env=env, cwd=ROOT,
                          check=True, capture_output=True, text=True)  # fmt: skip
    return done.stdout


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process in a session of its own, so stop() takes its children too (gunicorn's
    workers); its output dropped (an access log is written, as in production, then lost)."""
    return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def start_web(
    env: dict[str, str], port: int, workers: int = 2, threads: int | None = None
) -> subprocess.Popen[bytes]:
    """`relay web` (gunicorn, gthread) on 127.0.0.1:port."""
    argv = [sys.executable, "-m", "relay.cli", "web", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]  # fmt: skip
    if threads:
        argv += ["--threads", str(threads)]
    return start(argv, env)


def start_workers(env: dict[str, str], count: int, *flags: str) -> list[subprocess.Popen[bytes]]:
    """`count` `relay worker FLAGS…` processes."""
    argv = [sys.executable, "-m", "relay.cli", "worker", *flags]
    return [start(argv, env) for _ in range(count)]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until `url` answers at all (any HTTP status); fails early when `proc` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: its server exited ({proc.returncode}) before answering")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(procs: list[subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    """SIGTERM to each process's group (all started by start()), then SIGKILL to what stays."""
    for proc in procs:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(10)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
