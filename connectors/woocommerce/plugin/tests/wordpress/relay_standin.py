"""A local stand-in for the relay, for the plugin's real-WordPress test (127.0.0.1 only).

It answers the three routes the plugin calls the way the relay does, and records every
request so the test can check what arrived:

- POST /v1/events: `Authorization: Bearer <key>` (401 `invalid_api_key` otherwise), a JSON
  body of at most 256 KiB (413), loaded with the relay's own wire schema
  (shared.events.event_from_wire, which the relay's intake uses: 422 with the fields
  otherwise); 202 `{"event_id", "duplicate": false, "messages": []}` the first time, 200
  `duplicate: true` for a repeat with the same body, 409 `event_id_conflict` with another.
- GET /v1/account: `{"tenant": {"id", "name", "region"}}` for the key.
- POST /v1/cabinet/links: 404 until the test turns the cabinet on, then 201 `{"url": …}`
  (the relay answers 422 unless the body names the platform).

Control (for the test only): POST /_control `{"mode": "ok" | "503" | "down", "key": …,
"cabinet": bool}`; GET /_received (every request, in order); POST /_reset.

Usage: python relay_standin.py PORT REPO_ROOT (prints "ready" when listening).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 256 * 1024
STATE: dict[str, Any] = {"mode": "ok", "key": "rk_test_key", "cabinet": False}
RECEIVED: list[dict[str, Any]] = []
ACCEPTED: dict[str, str] = {}
LOCK = threading.Lock()


def _error(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, raw: bytes, status: int, **extra: Any) -> None:
        entry = {
            "method": self.command,
            "path": self.path,
            "authorization": self.headers.get("Authorization", ""),
            "content_type": self.headers.get("Content-Type", ""),
            "user_agent": self.headers.get("User-Agent", ""),
            "status": status,
            "body": raw.decode("utf-8", "replace"),
        }
        entry.update(extra)
        RECEIVED.append(entry)

    def _authorised(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {STATE['key']}"

    def do_GET(self) -> None:  # noqa: N802
        with LOCK:
            if self.path == "/_received":
                self._send(200, RECEIVED)
            elif self.path == "/v1/account":
                if not self._authorised():
                    self._record(b"", 401)
                    self._send(401, _error("invalid_api_key", "the API key is unknown or revoked"))
                    return
                self._record(b"", 200)
                tenant = {"id": "7b8b3abe", "name": "Чайная лавка <b>", "region": "BY"}
                self._send(200, {"tenant": tenant})
            else:
                self._send(404, _error("not_found", "no such route"))

    def do_POST(self) -> None:  # noqa: N802
        raw = self._body()
        with LOCK:
            if self.path == "/_control":
                STATE.update(json.loads(raw or b"{}"))
                self._send(200, STATE)
            elif self.path == "/_reset":
                RECEIVED.clear()
                ACCEPTED.clear()
                STATE.update({"mode": "ok", "key": "rk_test_key", "cabinet": False})
                self._send(200, STATE)
            elif self.path == "/v1/cabinet/links":
                if not self._authorised():
                    self._record(raw, 401)
                    self._send(401, _error("invalid_api_key", "the API key is unknown or revoked"))
                elif not STATE["cabinet"]:
                    self._record(raw, 404)
                    self._send(404, _error("not_found", "no such route"))
                elif json.loads(raw or b"{}").get("platform") != "woocommerce":
                    self._record(raw, 422)
                    self._send(422, _error("invalid_platform", "platform must be named"))
                else:
                    self._record(raw, 201)
                    host = self.headers.get("Host", "127.0.0.1")
                    self._send(201, {"url": f"http://{host}/cabinet/sso?token=one-time"})
            elif self.path == "/v1/events":
                self._event(raw)
            else:
                self._send(404, _error("not_found", "no such route"))

    def _event(self, raw: bytes) -> None:
        from marshmallow import ValidationError

        from shared.events import event_from_wire

        if STATE["mode"] == "503":
            self._record(raw, 503)
            self._send(503, _error("unavailable", "the relay is restarting"), {"Retry-After": "1"})
            return
        if not self._authorised():
            self._record(raw, 401)
            self._send(401, _error("invalid_api_key", "the API key is unknown or revoked"))
            return
        if len(raw) > MAX_BODY:
            self._record(raw, 413)
            self._send(413, _error("payload_too_large", "the body is over 256 KiB"))
            return
        try:
            wire = json.loads(raw)
        except ValueError:
            self._record(raw, 400)
            self._send(400, _error("malformed_json", "the body is not JSON"))
            return
        try:
            event_from_wire(wire)
        except ValidationError as exc:
            self._record(raw, 422, errors=exc.messages)
            self._send(422, _error("validation_error", "the event is invalid", exc.messages))
            return
        event_id = wire["event_id"]
        canonical = json.dumps(wire, sort_keys=True)
        if event_id in ACCEPTED and ACCEPTED[event_id] != canonical:
            self._record(raw, 409)
            self._send(409, _error("event_id_conflict", "another event has this event_id"))
            return
        duplicate = event_id in ACCEPTED
        ACCEPTED[event_id] = canonical
        status = 200 if duplicate else 202
        self._record(raw, status, event_id=event_id, type=wire["type"])
        self._send(status, {"event_id": event_id, "duplicate": duplicate, "messages": []})


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    sys.path.insert(0, root)
    import shared.events  # noqa: F401 - fail now, not at the first event, when it is missing

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
