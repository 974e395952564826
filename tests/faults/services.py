"""Processes a fault test owns: its own PostgreSQL cluster, `relay web` and `relay worker`."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

PG_BIN = Path(os.environ.get("RELAY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_pg_binaries() -> None:
    """Skip without initdb/pg_ctl; fail instead when RELAY_TEST_REQUIRE_SERVICES=1."""
    if (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists():
        return
    why = f"PostgreSQL binaries not found in {PG_BIN}"
    if os.environ.get("RELAY_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(why)
    pytest.skip(why)


class PgCluster:
    """A throw-away PostgreSQL cluster in a temporary folder, on a free port."""

    def __init__(self) -> None:
        # PostgreSQL refuses to run as root: as root, the cluster belongs to `postgres`, in a
        # folder of its own (a pytest temporary folder is closed to other users)
        self.folder = Path(tempfile.mkdtemp(prefix="relay-fault-pg-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.data = self.folder / "pgdata"
        self.log = self.folder / "pg.log"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/relay"

    def _pg(self, *args: str) -> None:
        subprocess.run(
            [*self._as, str(PG_BIN / args[0]), *args[1:]], check=True, capture_output=True
        )

    def init(self) -> PgCluster:
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        subprocess.run(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "relay",
            ],
            check=True,
            capture_output=True,
        )
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


def relay_env(database_url: str, redis_url: str, spool_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RELAY_DATABASE_URL": database_url,
            "RELAY_REDIS_URL": redis_url,
            "RELAY_SECRET_KEY": "fault-test-secret",
            "RELAY_PUBLIC_URL": "http://relay.test",
            "RELAY_LOG_LEVEL": "WARNING",
            "RELAY_SPOOL_DIR": str(spool_dir),
            "RELAY_SPOOL_REPLAY_SECONDS": "1",
            "RELAY_SWEEP_INTERVAL_SECONDS": "2",
            "RELAY_RATE_LIMIT_PER_KEY": "100000/second",
            "RELAY_RATE_LIMIT_PER_IP": "100000/second",
            "RELAY_RATE_LIMIT_WEBHOOK": "100000/second",
        }
    )
    return env


def relay(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `relay ARGS…` with its output in `log`."""
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "relay.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
    )


def wait_for_http(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the relay process died"
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def run_upgrade(env: dict[str, str]) -> None:
    """`relay db upgrade` on the test's database."""
    subprocess.run(
        [sys.executable, "-m", "relay.cli", "db", "upgrade"], env=env, check=True, timeout=120
    )
