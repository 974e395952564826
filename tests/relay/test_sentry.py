"""With RELAY_SENTRY_DSN set, errors reach Sentry with phone numbers masked.

A local HTTP server plays Sentry: the SDK posts its envelope there (no internet)."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@pytest.fixture
def sentry_standin() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    @Request.application
    def app(request: Request) -> Response:
        body = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        received.append(body)
        return Response("{}", content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/1", received
    server.shutdown()
    thread.join(5)


def test_unhandled_error_reaches_sentry_with_the_phone_masked(rt, sentry_standin):
    import sentry_sdk

    from relay import create_app

    dsn, received = sentry_standin
    rt.config["SENTRY_DSN"] = dsn
    try:
        app = create_app(runtime=rt)

        def boom():  # type: ignore[no-untyped-def]
            raise RuntimeError("gateway refused +375291234567")

        app.add_url_rule("/boom", "boom", boom)
        resp = app.test_client().get("/boom")
        assert resp.status_code == 500
        assert resp.get_json()["error"]["code"] == "internal_error"
        assert "375291234567" not in resp.get_data(as_text=True)
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)
    blob = b"".join(received).decode("utf-8", "replace")
    assert "gateway refused" in blob  # the event did arrive
    assert "+375291234567" not in blob and "375291234567" not in blob
    assert "+37529*****67" in blob
    events = [
        json.loads(line)
        for line in blob.splitlines()
        if line.startswith("{") and '"exception"' in line
    ]
    assert events, "no error event in the envelope"
