"""Stand-ins for public gateway APIs: small real HTTP servers on 127.0.0.1.

Each stand-in checks requests the way the gateway's public documentation describes them
(method, path, auth, required parameters and their formats, text encoding) and answers with the
documented shapes, including the documented error when a request is wrong, so an adapter that
drifts from the API fails its tests. Nothing here reaches the internet.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Call:
    """One request the stand-in received, decoded the way the gateway would decode it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    answer: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_form(raw: bytes, encoding: str = "utf-8") -> dict[str, str]:
    """Strictly decode an urlencoded body: raises UnicodeError for bytes not in `encoding`.

    A urlencoded body is ASCII by definition; the percent-escapes are decoded with the charset
    the gateway assumes, exactly as the real server would (so a UTF-8 text read as
    windows-1251 comes out garbled, as it would on the gateway).
    """
    text = raw.decode("ascii")
    return dict(parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="strict"))


# The faults a stand-in can play (docs/security.md, "Duplicate sends"): each is what a real
# gateway or the network between does. "hang" and "reset" happen AFTER the gateway took the
# message (it is recorded as accepted); the others answer without taking it.
FAULTS = ("http_500", "429_json", "429_text", "hang", "reset")


class StandIn:
    """Base: a threaded werkzeug server; subclasses implement `handle(request, call)`.

    `fault` plays one of FAULTS for the next `fault_times` requests (then answers normally);
    `delay` sleeps before every answer (a slow gateway); `hang` is how long "hang" holds the
    answer. `accepted` counts the requests the gateway itself took (answered 2xx), faults or
    not: what a real gateway would bill and deliver."""

    def __init__(self) -> None:
        self.fault: str | None = None
        self.fault_times = 1_000_000
        self.delay = 0.0
        self.hang = 3.0
        self.accepted: list[Call] = []
        self.calls: list[Call] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1."""
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        assert self._server is not None, "stand-in not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- requests ---------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        call = Call(
            method=request.method,
            path=request.path,
            params={},
            headers=dict(request.headers),
            body=request.get_data(),
        )
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            fault = self.fault if self.fault_times > 0 else None
            if fault is not None:
                self.fault_times -= 1
        if fault == "http_500":
            response = Response("Internal Server Error", status=500, content_type="text/plain")
        elif fault == "429_json":
            response = json_response({"code": 20429, "message": "Too Many Requests"}, 429)
            response.headers["Retry-After"] = "2"
        elif fault == "429_text":  # SMS.ru-style: a plain-text body
            response = Response("Too Many Requests", status=429, content_type="text/plain")
        else:
            response = self.handle(request, call)
        with self._lock:
            self.calls.append(call)
            if fault in (None, "hang", "reset") and self.took(response, call):
                self.accepted.append(call)
        if fault == "hang":  # took it, then never answers in time
            time.sleep(self.hang)
        elif fault == "reset":  # took it, then the connection is reset before the answer
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # detach: the server's file objects keep the socket object; the fd closes now
                os.close(sock.detach())
            return []
        return response(environ, start_response)

    def handle(self, request: Request, call: Call) -> Response:
        """Answer one request; record decoded parameters in `call.params`."""
        raise NotImplementedError

    def took(self, response: Response, call: Call) -> bool:
        """Whether this answer means the gateway took a message (to send and bill)."""
        return 200 <= response.status_code < 300

    @property
    def last(self) -> Call:
        """The most recent request."""
        assert self.calls, "the stand-in received no request"
        return self.calls[-1]

    def calls_to(self, path: str) -> list[Call]:
        """Requests to one path."""
        return [c for c in self.calls if c.path == path]


class Unconnectable:
    """An address where a connection is never made: a listening socket with a full backlog,
    so a client's connect times out (nothing is ever sent: "timeout before send")."""

    def __enter__(self) -> str:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(0)
        self._fillers = []
        port = self._server.getsockname()[1]
        for _ in range(4):  # fill the accept queue; later SYNs are dropped
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            self._fillers.append(c)
        time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        for c in self._fillers:
            c.close()
        self._server.close()


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer the way these gateways send it."""
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
