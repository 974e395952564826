"""Real processes for the many-hosts tests: a PostgreSQL cluster, Redis servers and sentinels,
Linux network namespaces as hosts, `relay worker` processes, and a Kannel `sendsms` stand-in
that counts what it was asked to send.

Everything here starts its own servers on addresses and ports of its own and stops them again
(also when a test fails), so nothing touches the machine's PostgreSQL or Redis. The tests run
when RELAY_TEST_REQUIRE_SERVICES=1 (`.ci/run`: then anything missing is a failure) or
RELAY_TEST_SCALE=1 (then a missing tool skips); otherwise they are skipped as slow.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("RELAY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
RESULTS = ROOT / "var" / "scale-results"


def gate(*needs: str) -> None:
    """Skip (or, with RELAY_TEST_REQUIRE_SERVICES=1, fail) unless the slow tests are wanted and
    every named need is on this machine: `root`, `ip`, `redis-server`, `postgres`."""
    required = os.environ.get("RELAY_TEST_REQUIRE_SERVICES") == "1"
    if not required and os.environ.get("RELAY_TEST_SCALE") != "1":
        pytest.skip("many-hosts tests are slow: RELAY_TEST_SCALE=1 (or .ci/run) runs them")
    missing = []
    for need in needs:
        if need == "root" and os.geteuid() != 0:
            missing.append("root (network namespaces)")
        elif need == "postgres" and not (PG_BIN / "initdb").exists():
            missing.append(f"{PG_BIN}/initdb")
        elif need not in ("root", "postgres") and shutil.which(need) is None:
            missing.append(need)
    if missing:
        message = f"missing for the many-hosts tests: {', '.join(missing)}"
        if required:
            pytest.fail(message)
        pytest.skip(message)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Stop a process we started (and its group), waiting for it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# --- PostgreSQL ---------------------------------------------------------------------------


class PgCluster:
    """A throw-away PostgreSQL cluster (initdb + pg_ctl, run as the `postgres` user)."""

    def __init__(self, listen: str, port: int) -> None:
        self.listen, self.port = listen, port
        self.dir = Path(tempfile.mkdtemp(prefix="relay-scale-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql+psycopg://postgres@{listen}:{port}/relay"

    def _as_postgres(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:  # initdb refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def start(self) -> PgCluster:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"
        )
        hba = self.data / "pg_hba.conf"
        with hba.open("a") as f:
            f.write("host all all 0.0.0.0/0 trust\n")
        opts = (
            f"-c listen_addresses={self.listen} -p {self.port} -k {self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300 -c shared_buffers=64MB"
        )
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts,
            "-l", str(self.dir / "log"), "-w", "start",
        )  # fmt: skip
        from sqlalchemy import create_engine, text

        admin = create_engine(
            f"postgresql+psycopg://postgres@{self.listen}:{self.port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE relay"))
        admin.dispose()
        return self

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._as_postgres(
                    str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
                )
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own (no persistence)."""

    def __init__(self, bind: str, port: int, *extra: str, sentinel: bool = False) -> None:
        self.bind, self.port, self.extra, self.sentinel = bind, port, extra, sentinel
        self.dir = Path(tempfile.mkdtemp(prefix="relay-scale-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        if self.sentinel:  # a sentinel rewrites its config file: it needs one of its own
            conf = self.dir / "sentinel.conf"
            conf.write_text(
                f"port {self.port}\nbind {self.bind}\ndir {self.dir}\nprotected-mode no\n"
                + "\n".join(self.extra)
            )
            cmd = ["redis-server", str(conf), "--sentinel"]
        else:
            cmd = [
                "redis-server", "--bind", self.bind, "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", str(self.dir),
                # bound to the test's own private address only
                "--protected-mode", "no", *self.extra,
            ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            stdout=(self.dir / "log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.bind, self.port)
        return self

    def kill(self) -> None:
        """Die at once, as a crashed host would."""
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- hosts as network namespaces -------------------------------------------------------------


@dataclass
class Hosts:
    """`count` hosts, each a network namespace with a veth pair on one bridge in the root
    namespace; the bridge holds `gateway` (e.g. 10.77.0.1), host i is 10.77.0.(10+i)."""

    count: int
    subnet: str = "10.77.0"
    tag: str = field(default_factory=lambda: f"rs{os.getpid() % 10000}")

    @property
    def gateway(self) -> str:
        return f"{self.subnet}.1"

    @property
    def bridge(self) -> str:
        return f"{self.tag}br"

    def names(self) -> list[str]:
        return [f"{self.tag}h{i}" for i in range(1, self.count + 1)]

    def up(self) -> Hosts:
        ip = _ip
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for i, ns in enumerate(self.names(), start=1):
            outer, inner = f"{ns}o", f"{ns}i"
            ip("netns", "add", ns)
            ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            ip("link", "set", outer, "master", self.bridge)
            ip("link", "set", outer, "up")
            ip("link", "set", inner, "netns", ns)
            ip("-n", ns, "addr", "add", f"{self.subnet}.{10 + i}/24", "dev", inner)
            ip("-n", ns, "link", "set", inner, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        return self

    def down(self) -> None:
        """Remove every namespace and the bridge (deleting a namespace deletes its veth)."""
        for ns in self.names():
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def __enter__(self) -> Hosts:
        try:
            return self.up()
        except BaseException:
            self.down()  # a half-built set of namespaces is removed too
            raise

    def __exit__(self, *exc: object) -> None:
        self.down()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


# --- relay workers ------------------------------------------------------------------------


def relay_env(database_url: str, redis_url: str, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELAY_", "PYTEST", "COV_"))}
    env.update(
        RELAY_DATABASE_URL=database_url,
        RELAY_REDIS_URL=redis_url,
        RELAY_SECRET_KEY="scale-test-secret",
        RELAY_HOME=str(home),
        RELAY_LOG_LEVEL="WARNING",
        RELAY_SWEEP_INTERVAL_SECONDS="2",
        RELAY_REQUEUE_GRACE_SECONDS="10",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def start_worker(env: dict[str, str], log: Path, prefix: Sequence[str] = ()) -> Any:
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "relay.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# --- the gateway stand-in ----------------------------------------------------------------


class SendCounter:
    """Kannel's smsbox `sendsms` as the relay's Kannel adapter calls it: answers
    `202 0: Accepted for delivery` and counts sends per relay message id (the `id` the relay
    puts in the `dlr-url`), with the time each arrived."""

    def __init__(self, host: str, username: str = "relay", password: str = "scale") -> None:
        self.host, self.username, self.password = host, username, password
        self.sends: Counter[str] = Counter()
        self.times: list[float] = []
        self.refused = 0
        self._lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                at = time.monotonic()
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                ok = (
                    parts.path == "/cgi-bin/sendsms"
                    and query.get("username") == counter.username
                    and query.get("password") == counter.password
                    and query.get("to")
                    and query.get("text")
                )
                dlr = parse_qs(urlsplit(query.get("dlr-url", "")).query)
                message_id = (dlr.get("id") or [""])[0]
                if not ok or not message_id:
                    with counter._lock:
                        counter.refused += 1
                    body, status = b"Authorization failed for sendsms", 403
                else:
                    with counter._lock:
                        counter.sends[message_id] += 1
                        counter.times.append(at)
                    body, status = b"0: Accepted for delivery", 202
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def sendsms_url(self) -> str:
        return f"http://{self.host}:{self.port}/cgi-bin/sendsms"

    def start(self) -> SendCounter:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def total(self) -> int:
        with self._lock:
            return sum(self.sends.values())

    def max_in_window(self, seconds: float = 1.0) -> int:
        """The most sends that arrived within any `seconds`-long window."""
        with self._lock:
            times = sorted(self.times)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best


# --- the relay's data -----------------------------------------------------------------------


def seed(database_url: str, redis_url: str, counter: SendCounter, rate: str, n: int) -> list[str]:
    """Migrate, make a tenant on a Kannel gateway with `rate`, and queue `n` messages the way
    intake leaves them (rows, history, ids on the queue in batches)."""
    from sqlalchemy import insert

    from relay.gateways.provider_admin import save_provider
    from relay.storage.db import upgrade
    from relay.storage.models import Message, MessageHistory
    from relay.storage.types import new_id
    from relay.tenancy.tenant_admin import set_tenant_providers
    from relay.tenancy.tenants import create_tenant
    from relay.wiring import build_runtime

    upgrade(database_url)
    rt = build_runtime(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "scale-test-secret"}
    )
    now = datetime.now(UTC)
    with rt.session() as s:
        # transactional, quiet hours off: every message is due now, whatever the hour
        tenant = create_tenant(s, "scale", "BY", None, {"transactional_quiet_hours": False})
        config = {
            "sendsms_url": counter.sendsms_url,
            "username": counter.username,
            "password": counter.password,
            "rate": rate,
            "concurrency": 4,
        }
        save_provider(s, "gw", "kannel", config, rt.secrets)
        set_tenant_providers(s, tenant, ["gw"])
        s.commit()
        ids = [new_id() for _ in range(n)]
        for start in range(0, n, 5000):
            chunk = ids[start : start + 5000]
            s.execute(
                insert(Message),
                [
                    {
                        "id": mid,
                        "tenant_id": tenant.id,
                        "phone": f"+37529{1000000 + start + i:07d}",
                        "channel": "sms",
                        "category": "transactional",
                        "text": "Order 727 is on its way",
                        "status": "queued",
                        "segments": 1,
                        "encoding": "gsm7",
                        "attempts": 0,
                        "urgent": False,
                        "created_at": now,
                        "updated_at": now,
                        "enqueued_at": now,
                    }
                    for i, mid in enumerate(chunk)
                ],
            )
            s.execute(
                insert(MessageHistory),
                [{"message_id": mid, "status": "queued", "at": now} for mid in chunk],
            )
        s.commit()
    rt.dispatcher.dispatch([(mid, None) for mid in ids], now)
    rt.engine.dispose()
    return ids


def statuses(database_url: str) -> Counter[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM messages GROUP BY status")).all()
    engine.dispose()
    return Counter({str(status): int(n) for status, n in rows})


LIVE = ("queued", "scheduled", "sending")


def wait_settled(database_url: str, counter: SendCounter, n: int, timeout: float) -> float:
    """Wait until no message is live any more (or `timeout`); return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        counts = statuses(database_url)
        if sum(counts[s] for s in LIVE) == 0 and counter.total() >= n:
            break
        time.sleep(1.0)
    return time.monotonic() - started


def record(name: str, figures: dict[str, Any]) -> None:
    """Keep a test's figures (var/scale-results/<name>.json) and print them (pytest -s)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = {"test": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n{name}: {json.dumps(figures)}")


def outcome(ids: Sequence[str], counter: SendCounter, database_url: str) -> dict[str, Any]:
    """in / sent / lost / duplicated, as the stand-in and the database saw them."""
    counts = statuses(database_url)
    sends = counter.sends
    return {
        "in": len(ids),
        "sent_once": sum(1 for mid in ids if sends.get(mid) == 1),
        "lost": sum(1 for mid in ids if mid not in sends),
        "duplicated": sum(1 for mid in ids if sends.get(mid, 0) > 1),
        "unexpected_ids": len(set(sends) - set(ids)),
        "refused_requests": counter.refused,
        "statuses": dict(counts),
    }


@dataclass
class Run:
    """One test's own services on one address: a PostgreSQL cluster, the gateway stand-in,
    Redis servers and relay workers. `services()` starts the first two and stops everything."""

    host: str
    tmp: Path
    pg: PgCluster
    counter: SendCounter
    servers: list[RedisServer] = field(default_factory=list)
    workers: list[Any] = field(default_factory=list)

    def redis(self, *extra: str, sentinel: bool = False) -> RedisServer:
        """A Redis server (or a sentinel) of this run's, started."""
        server = RedisServer(self.host, free_port(), *extra, sentinel=sentinel)
        self.servers.append(server)
        return server.start()

    def seed(self, redis_url: str, rate: str, n: int) -> list[str]:
        """`n` queued messages on a Kannel gateway (this run's stand-in) limited to `rate`."""
        return seed(self.pg.url, redis_url, self.counter, rate, n)

    def start_workers(
        self, redis_url: str, count: int, name: str = "host", prefix: Sequence[str] = ()
    ) -> None:
        """`count` `relay worker` processes (run under `prefix`, e.g. in a namespace), with a
        home of their own and logs in the test's folder."""
        env = relay_env(self.pg.url, redis_url, self.tmp / name)
        for k in range(count):
            log = self.tmp / f"{name}-worker{k}.log"
            self.workers.append(start_worker(env, log, prefix))

    def settle(self, ids: Sequence[str], timeout: float) -> tuple[dict[str, Any], float]:
        """Wait until no message is live; what became of `ids` (`outcome`, the most sends in
        any second, the workers that died) and the seconds it took."""
        took = wait_settled(self.pg.url, self.counter, len(ids), timeout)
        exited = [p.returncode for p in self.workers if p.poll() is not None]
        figures = outcome(ids, self.counter, self.pg.url)
        figures.update(
            max_sends_in_any_second=self.counter.max_in_window(1.0), workers_exited=exited
        )
        return figures, took

    def assert_sent_exactly_once(self, figures: dict[str, Any]) -> None:
        """No worker died, every message reached the gateway once and ended `sent`."""
        assert figures["workers_exited"] == [], f"workers died; logs in {self.tmp}"
        assert (figures["lost"], figures["duplicated"], figures["unexpected_ids"]) == (0, 0, 0)
        assert figures["sent_once"] == figures["in"]
        assert figures["statuses"] == {"sent": figures["in"]}

    def stop(self) -> None:
        for proc in self.workers:
            stop(proc)
        self.counter.stop()
        for server in self.servers:
            server.stop()
        self.pg.stop()


@contextmanager
def services(host: str, tmp: Path) -> Iterator[Run]:
    """A `Run` on `host`; on the way out, also when the test fails, workers are stopped first,
    then the stand-in, the Redis servers and PostgreSQL."""
    pg = PgCluster(host, free_port())
    try:
        pg.start()
        counter = SendCounter(host).start()
    except BaseException:
        pg.stop()
        raise
    run = Run(host, tmp, pg, counter)
    try:
        yield run
    finally:
        run.stop()
