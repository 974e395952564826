"""Stand-ins for public gateway APIs: small real HTTP servers on 127.0.0.1.

Each stand-in checks requests the way the gateway's public documentation describes them
(method, path, auth, required parameters and their formats, text encoding) and answers with the
documented shapes, including the documented error when a request is wrong, so an adapter that
drifts from the API fails its tests. Nothing here reaches the internet.
"""

from __future__ import annotations

import json
import threading
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


class StandIn:
    """Base: a threaded werkzeug server; subclasses implement `handle(request, call)`."""

    def __init__(self) -> None:
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
        response = self.handle(request, call)
        with self._lock:
            self.calls.append(call)
        return response(environ, start_response)

    def handle(self, request: Request, call: Call) -> Response:
        """Answer one request; record decoded parameters in `call.params`."""
        raise NotImplementedError

    @property
    def last(self) -> Call:
        """The most recent request."""
        assert self.calls, "the stand-in received no request"
        return self.calls[-1]

    def calls_to(self, path: str) -> list[Call]:
        """Requests to one path."""
        return [c for c in self.calls if c.path == path]


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer the way these gateways send it."""
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
