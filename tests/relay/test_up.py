"""`relay up` on a fresh directory: no Redis or database set up beforehand."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_relay_up_serves_sends_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "up", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        health = requests.get(base + "/healthz", timeout=5).json()
        assert health == {"status": "ok", "checks": {"db": "ok", "redis": "ok"}}
        key = (tmp_path / "var" / "demo_key").read_text().strip()
        headers = {"Authorization": f"Bearer {key}"}
        resp = requests.post(
            base + "/v1/events",
            headers=headers,
            timeout=10,
            json={
                "event_id": "up-1",
                "type": "message.requested",
                "occurred_at": "2026-11-22T12:00:00+03:00",
                "customer": {"phone": "+375291234567", "timezone": "Europe/Minsk"},
                "message": {"text": "Заказ готов", "category": "transactional"},
            },
        )
        assert resp.status_code == 202, resp.text
        [msg] = resp.json()["messages"]
        status = msg["status"]
        if status == "queued":  # not night in Minsk: the worker sends it through the sandbox
            for _ in range(100):
                status = requests.get(
                    f"{base}/v1/messages/{msg['id']}", headers=headers, timeout=5
                ).json()["status"]
                if status == "delivered":
                    break
                time.sleep(0.1)
            assert status == "delivered"
        else:
            assert (status, msg["reason"]) == ("scheduled", "quiet_hours")
        # `relay demo` from another folder, on the key `relay up` wrote (RELAY_HOME)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        shown = subprocess.run(
            [sys.executable, "-m", "relay.cli", "demo", "--url", base],
            cwd=elsewhere,
            env={**env, "RELAY_HOME": str(tmp_path)},
            text=True,
            capture_output=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert "reason stop_list" in shown.stdout and "nothing was queued" in shown.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "relay is up at" in out and "relay stopped" in out
    assert "demo tenant 'demo' created" in out
    assert json.loads(json.dumps(health))  # sanity: JSON health
