"""The newcomer's path: `relay` from any folder (RELAY_HOME), a database that is not there or
not migrated, `relay up` without `var/`, and a port that is taken."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from relay.storage.db import upgrade


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env.update(extra)
    return env


def relay(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", *args],
        env=clean_env(**env),
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_commands_find_their_files_from_relay_home_in_any_folder(tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = relay("db", "upgrade", cwd=elsewhere, RELAY_HOME=str(home))
    assert out.returncode == 0, out.stderr
    assert str(home / "var" / "relay.db") in out.stdout
    made = relay("tenants", "create", "shop", "--region", "BY", "--json", cwd=elsewhere,
                 RELAY_HOME=str(home))  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["id"]
    key = relay("keys", "create", "shop", "--scope", "admin", "--json", cwd=tmp_path,
                RELAY_HOME=str(home))  # fmt: skip
    assert key.returncode == 0, key.stderr and json.loads(key.stdout)["key"]
    assert (home / "var" / "secret_key").exists()
    assert not (elsewhere / "var").exists() and not (tmp_path / "var").exists()


@pytest.mark.parametrize("args", [("tenants", "list"), ("keys", "create", "x", "--scope", "admin")])
def test_a_missing_database_says_run_relay_db_upgrade(tmp_path, args):
    out = relay(*args, cwd=tmp_path)
    assert out.returncode == 1
    assert "run `relay db upgrade`" in out.stderr and "Traceback" not in out.stderr
    assert str(tmp_path / "var" / "relay.db") in out.stderr
    assert not (tmp_path / "var").exists()  # nothing created in a folder that is not the relay's


def test_an_unmigrated_database_says_run_relay_db_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    env = {"RELAY_DATABASE_URL": url, "RELAY_SECRET_KEY": "k"}
    out = relay("tenants", "create", "x", "--region", "BY", "--json", cwd=tmp_path, **env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    error = json.loads(out.stderr)["error"]
    assert error["code"] == "database_not_ready"
    assert "revision 0005" in error["message"] and "run `relay db upgrade`" in error["message"]
    empty = tmp_path / "empty.db"
    empty.touch()
    env["RELAY_DATABASE_URL"] = f"sqlite:///{empty}"
    out = relay("archive", "run", cwd=tmp_path, **env)
    assert out.returncode == 1 and "run `relay db upgrade`" in out.stderr
    assert "Traceback" not in out.stderr
    assert relay("db", "upgrade", cwd=tmp_path, **env).returncode == 0
    assert relay("archive", "run", cwd=tmp_path, **env).returncode == 0


def test_relay_up_in_a_new_home_without_var(tmp_path, redis_url):
    """PostgreSQL-like set-up: database, secret and Redis given, so nothing else creates
    `var/` before the demo tenant's key is written there."""
    home = tmp_path / "new-home"
    port = free_port()
    env = clean_env(
        RELAY_HOME=str(home),
        RELAY_DATABASE_URL=f"sqlite:///{tmp_path / 'db' / 'relay.db'}",
        RELAY_SECRET_KEY="secret",
        RELAY_REDIS_URL=redis_url,
        RELAY_QUEUE_NAME="relay-home-test",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "up", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        assert (home / "var" / "demo_key").read_text().startswith("rk_")
        assert (home / "var" / "demo_key").stat().st_mode & 0o077 == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "relay is up at" in out


def test_a_port_in_use_is_reported_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        out = relay("up", "--port", str(port), cwd=tmp_path)
    assert out.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in out.stderr
    assert "relay is up" not in out.stdout and "Traceback" not in out.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "var").exists()  # no database, no Redis, no key made


def test_unreachable_database_or_redis_is_an_error_not_a_traceback(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://relay@127.0.0.1:{port}/relay?connect_timeout=2"
    out = relay("db", "upgrade", cwd=tmp_path, RELAY_DATABASE_URL=url, RELAY_SECRET_KEY="k")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "cannot migrate the database" in out.stderr
    out = relay("tenants", "list", cwd=tmp_path, RELAY_DATABASE_URL=url, RELAY_SECRET_KEY="k")
    assert out.returncode == 1 and "cannot open the database" in out.stderr
    assert relay("db", "upgrade", cwd=tmp_path).returncode == 0
    out = relay("sweep", cwd=tmp_path)  # no RELAY_REDIS_URL and no `relay up` running here
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "start the relay with `relay up`" in out.stderr
