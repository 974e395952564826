"""`relay demo` against a relay served over real HTTP: decisions and why, nothing left to send,
no new key per run, and clear errors (exit 1) when the relay or the key is not there."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from relay.messages.lifecycle import CLAIMABLE
from relay.storage.models import ApiKey, Message, StopEntry


def demo(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", "demo", *args],
        env={**clean, **env},
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def served(app, clock):  # type: ignore[no-untyped-def]
    """The test app on a real HTTP port, at the real clock (the demo has no other)."""
    clock.set(datetime.now(UTC))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def count(rt, *where) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(where[0]).where(*where[1:]))


def test_demo_shows_decisions_and_leaves_nothing_to_send(rt, tenant, served, tmp_path):
    home = tmp_path / "home"
    (home / "var").mkdir(parents=True)
    (home / "var" / "demo_key").write_text(tenant["key"] + "\n")
    keys_before = count(rt, ApiKey)
    for _ in range(2):  # twice: a second run is as clean as the first
        out = demo("--url", served, "--json", cwd=tmp_path, RELAY_HOME=str(home))
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        by_title = {d["title"]: d for d in report["decisions"]}
        night = next(d for t, d in by_title.items() if "tonight" in t)
        assert (night["kind"], night["decision"], night["reason"]) == (
            "what-if",
            "defer",
            "quiet_hours",
        )
        assert "quiet hours" in night["why"] and night["not_before"].endswith("Europe/Minsk")
        cart = by_title["abandoned cart, no consent (marketing)"]
        assert (cart["kind"], cart["status"], cart["reason"]) == ("event", "blocked", "no_consent")
        stop = by_title["CRM message to a STOP-listed number"]
        assert (stop["kind"], stop["status"], stop["reason"]) == ("event", "blocked", "stop_list")
        assert stop["phone"] == "+375296667788" and stop["why"]
        assert report["will_be_sent"] == 0
    assert count(rt, Message, Message.status.in_(CLAIMABLE)) == 0  # nothing queued or scheduled
    assert count(rt, Message, Message.status == "blocked") == 4
    assert count(rt, ApiKey) == keys_before  # no key made per run
    assert count(rt, StopEntry) == 1
    text = demo("--url", served, "--key", tenant["key"], cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "BLOCK (status blocked, reason stop_list)" in text.stdout
    assert "DEFER (reason quiet_hours)" in text.stdout
    assert "nothing was queued or scheduled" in text.stdout


def test_demo_without_a_running_relay_says_start_it(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = demo("--url", f"http://127.0.0.1:{port}", "--key", "rk_x", cwd=tmp_path)
    assert out.returncode == 1
    assert "start it with `relay up`" in out.stderr and "Traceback" not in out.stderr


def test_demo_without_a_key_or_with_a_refused_one_exits_1(rt, served, tmp_path):
    out = demo("--url", served, cwd=tmp_path)  # no var/demo_key here
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert str(tmp_path / "var" / "demo_key") in out.stderr and "--key" in out.stderr
    out = demo("--url", served, "--key", "rk_not-a-key", "--json", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "refused the key" in json.loads(out.stderr)["error"]["message"]
