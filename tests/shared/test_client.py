"""RelayClient implementations: in-process, and HTTP against a real local server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from shared.client import (
    HttpRelayClient,
    InProcessRelayClient,
    RelayClient,
    RelayClientError,
    SubmitResult,
)
from shared.events import Customer, Event, Order, event_from_wire, event_to_wire

EVENT = Event(
    "woo-727-processing",
    "order.status_changed",
    datetime(2026, 11, 22, 15, 4, 5, tzinfo=UTC),
    customer=Customer("+375 29 123-45-67", name="Анна"),
    order=Order("727", status="processing"),
)
MESSAGE = {"id": "m-1", "channel": "sms", "status": "queued", "reason": None, "not_before": None}
ACCEPTED = (202, {"event_id": EVENT.event_id, "duplicate": False, "messages": [MESSAGE]}, 0.0)
DUPLICATE = (200, {"event_id": EVENT.event_id, "duplicate": True, "messages": [MESSAGE]}, 0.0)
INVALID = (
    422,
    {
        "error": {
            "code": "validation_error",
            "message": "The event is not valid.",
            "fields": {"order": {"status": ["Missing data for required field."]}},
        }
    },
    0.0,
)


class FakeRelay:
    """A scripted relay: answers requests with the queued (status, body, delay) in turn."""

    def __init__(self) -> None:
        self.script: list[tuple[int, Any, float]] = []
        self.requests: list[dict[str, Any]] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                relay.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                status, answer, delay = relay.script.pop(0) if relay.script else ACCEPTED
                time.sleep(delay)
                raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def relay() -> Iterator[FakeRelay]:
    server = FakeRelay()
    yield server
    server.close()


def client_for(relay: FakeRelay, **kwargs: Any) -> HttpRelayClient:
    return HttpRelayClient(relay.url + "/", "key-123", backoff_factor=0, **kwargs)


def test_both_clients_satisfy_the_protocol() -> None:
    assert isinstance(InProcessRelayClient(lambda wire: (202, {})), RelayClient)
    assert isinstance(HttpRelayClient("http://127.0.0.1:1", "k"), RelayClient)


def test_http_posts_the_wire_event_with_bearer_key(relay: FakeRelay) -> None:
    result = client_for(relay).submit(EVENT)
    assert result == SubmitResult(EVENT.event_id, False, (MESSAGE,), 202)
    [request] = relay.requests
    assert request["path"] == "/v1/events"
    assert request["headers"]["Authorization"] == "Bearer key-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == event_to_wire(EVENT)
    assert event_from_wire(request["body"]) == EVENT


def test_http_duplicate_is_a_success(relay: FakeRelay) -> None:
    relay.script = [DUPLICATE]
    result = client_for(relay).submit(EVENT)
    assert result == SubmitResult(EVENT.event_id, True, (MESSAGE,), 200)


def test_http_retries_503_then_succeeds(relay: FakeRelay) -> None:
    busy = (503, {"error": {"code": "unavailable", "message": "busy"}}, 0.0)
    relay.script = [busy, (502, "<html>bad gateway</html>", 0.0), ACCEPTED]
    result = client_for(relay, retries=3).submit(EVENT)
    assert result.status_code == 202
    assert len(relay.requests) == 3
    assert relay.requests[0]["body"] == relay.requests[2]["body"]  # same event_id each time


def test_http_gives_up_after_retries_with_the_last_error(relay: FakeRelay) -> None:
    busy = (504, {"error": {"code": "gateway_timeout", "message": "upstream"}}, 0.0)
    relay.script = [busy] * 3
    with pytest.raises(RelayClientError) as caught:
        client_for(relay, retries=2).submit(EVENT)
    assert (caught.value.code, caught.value.status) == ("gateway_timeout", 504)
    assert len(relay.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 409, 422, 429, 500])
def test_http_does_not_retry_other_errors(relay: FakeRelay, status: int) -> None:
    relay.script = [(status, {"error": {"code": "nope", "message": "No."}}, 0.0), ACCEPTED]
    with pytest.raises(RelayClientError) as caught:
        client_for(relay).submit(EVENT)
    assert (caught.value.code, caught.value.status, caught.value.message) == ("nope", status, "No.")
    assert len(relay.requests) == 1


def test_http_maps_validation_errors_with_fields(relay: FakeRelay) -> None:
    relay.script = [INVALID]
    with pytest.raises(RelayClientError) as caught:
        client_for(relay).submit(EVENT)
    error = caught.value
    assert (error.code, error.status, error.message) == (
        "validation_error",
        422,
        "The event is not valid.",
    )
    assert error.fields == {"order": {"status": ["Missing data for required field."]}}
    assert str(error) == "validation_error: The event is not valid. (HTTP 422)"


def test_http_error_without_json_body(relay: FakeRelay) -> None:
    relay.script = [(404, "<html>Not Found</html>", 0.0)]
    with pytest.raises(RelayClientError) as caught:
        client_for(relay).submit(EVENT)
    assert (caught.value.code, caught.value.status) == ("http_404", 404)


def test_http_bad_success_body(relay: FakeRelay) -> None:
    relay.script = [(202, {"ok": True}, 0.0)]
    with pytest.raises(RelayClientError) as caught:
        client_for(relay).submit(EVENT)
    assert (caught.value.code, caught.value.status) == ("bad_response", 202)


def test_http_read_timeout_is_retried_then_reported(relay: FakeRelay) -> None:
    slow = (202, ACCEPTED[1], 1.0)
    relay.script = [slow, slow]
    started = time.monotonic()
    with pytest.raises(RelayClientError) as caught:
        client_for(relay, timeout=0.2, retries=1).submit(EVENT)
    assert caught.value.code == "timeout"
    assert caught.value.status is None
    assert len(relay.requests) == 2
    assert time.monotonic() - started < 2.0


def test_http_read_timeout_then_success(relay: FakeRelay) -> None:
    relay.script = [(202, ACCEPTED[1], 1.0), DUPLICATE]
    result = client_for(relay, timeout=0.2, retries=1).submit(EVENT)
    assert result.duplicate is True  # the first attempt got through; the relay says so


def test_http_connection_refused() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpRelayClient(f"http://127.0.0.1:{port}", "k", retries=2, backoff_factor=0)
    with pytest.raises(RelayClientError) as caught:
        client.submit(EVENT)
    assert caught.value.code == "connection_error"
    assert caught.value.status is None


def test_http_uses_a_given_session_only_for_the_relay(relay: FakeRelay) -> None:
    session = requests.Session()
    other = session.get_adapter("https://example.org/")
    client = HttpRelayClient(relay.url, "k", session=session, backoff_factor=0)
    assert client.session is session
    assert session.get_adapter(relay.url + "/v1/events") is not other
    assert session.get_adapter("https://example.org/") is other
    assert client.submit(EVENT).status_code == 202
    client.close()  # not ours: stays usable
    assert client.submit(EVENT).status_code == 202


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ftp://relay", "k"), "base_url must be an http(s) URL, got 'ftp://relay'"),
        (("http://relay", ""), "api_key must not be empty, got ''"),
    ],
)
def test_http_client_checks_its_arguments(args: tuple[str, str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        HttpRelayClient(*args)
    assert str(caught.value) == message


def test_in_process_passes_the_wire_dict_and_maps_answers() -> None:
    seen: list[dict[str, Any]] = []
    answers = [ACCEPTED[:2], DUPLICATE[:2], INVALID[:2]]

    def submit_wire(wire: dict[str, Any]) -> tuple[int, Any]:
        seen.append(wire)
        return answers.pop(0)

    client = InProcessRelayClient(submit_wire)
    assert client.submit(EVENT) == SubmitResult(EVENT.event_id, False, (MESSAGE,), 202)
    assert client.submit(EVENT) == SubmitResult(EVENT.event_id, True, (MESSAGE,), 200)
    with pytest.raises(RelayClientError) as caught:
        client.submit(EVENT)
    assert caught.value.code == "validation_error"
    assert caught.value.fields == {"order": {"status": ["Missing data for required field."]}}
    assert seen == [event_to_wire(EVENT)] * 3


def test_submit_result_checks_itself() -> None:
    with pytest.raises(ValueError, match="status_code must be 2xx, got 422"):
        SubmitResult("e", False, (), 422)
