"""A real `relay web` (gunicorn, access log on stdout) logs no phone, message text or callback
token, and reads a chunked body whole or refuses it (docs/security.md)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

PHONE = "+79161234567"
TEXT = "hello-secret-reply-text"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def web(rt, tenant, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`relay web` on a free loopback port, on the test database and Redis."""
    port = _free_port()
    log = tmp_path / "web.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env.update(
        RELAY_HOME=str(tmp_path),
        RELAY_DATABASE_URL=rt.config["DATABASE_URL"],
        RELAY_REDIS_URL=rt.config["REDIS_URL"],
        RELAY_SECRET_KEY=rt.config["SECRET_KEY"],
        RELAY_ADMIN_TOKEN="op-token-for-the-log-test",
        RELAY_LOG_LEVEL="INFO",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "relay.cli", "web", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            requests.get(f"{base}/healthz", timeout=2)
            break
        except requests.RequestException:
            time.sleep(0.2)
    yield {"url": base, "log": log, "headers": tenant["headers"]}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def test_the_access_log_holds_no_phone_text_or_callback_token(web):
    token = secrets.token_hex(16)
    base, headers = web["url"], web["headers"]
    answers = [
        requests.get(f"{base}/v1/consents", params={"phone": PHONE}, headers=headers),
        requests.get(f"{base}/v1/messages/{PHONE}", headers=headers),
        requests.get(
            f"{base}/callbacks/sandbox/{token}/inbound",
            params={"from": PHONE, "to": "1234", "text": TEXT},
        ),
        requests.post(
            f"{base}/callbacks/sandbox/{token}/dlr?phone={PHONE[1:]}&msg={TEXT}", data=b"x=1"
        ),
        requests.get(f"{base}/v1/stoplist", params={"q": TEXT, "limit": 5}, headers=headers),
    ]
    assert all(r.status_code < 500 for r in answers), [r.status_code for r in answers]
    time.sleep(0.5)  # gunicorn writes the access line after the answer
    text = web["log"].read_text(errors="replace")
    lines = [line for line in text.splitlines() if '"GET ' in line or '"POST ' in line]
    assert len(lines) >= len(answers), text[-2000:]  # the access log is on and was written
    for secret in (PHONE, PHONE[1:], "9161234567", "916123", TEXT, token, "%2B7916"):
        assert secret not in text, (secret, [line for line in lines if secret in line])
    assert any("/callbacks/sandbox/***/inbound" in line for line in lines)
    assert any("limit=5" in line for line in lines)  # harmless values stay readable


def test_a_chunked_body_over_the_limit_is_413_and_under_it_is_read_whole(web):
    base, headers = web["url"], {**web["headers"], "Content-Type": "application/json"}

    def chunks(payload: bytes):  # type: ignore[no-untyped-def]
        for i in range(0, len(payload), 16 * 1024):
            yield payload[i : i + 16 * 1024]

    big = b'{"event_id": "chunky", "pad": "' + b"x" * 300 * 1024 + b'"}'
    resp = requests.post(f"{base}/v1/events", data=chunks(big), headers=headers)
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "payload_too_large"
    small = b'{"phone": "+375291234567", "category": "marketing", "channel": "sms"}'
    resp = requests.post(f"{base}/v1/policy/explain", data=chunks(small), headers=headers)
    assert resp.status_code == 200, resp.text
