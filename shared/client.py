"""How connectors hand events to the relay: the RelayClient protocol and two implementations.

`InProcessRelayClient` calls the relay's intake directly (one process, tests, the demo);
`HttpRelayClient` posts to `POST /v1/events`. Both turn the relay's answer into a SubmitResult
or a RelayClientError, so a connector does not care which one it holds.

This is the only module in `shared` that imports requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from shared.events import Event, event_to_wire

RETRY_STATUSES = (502, 503, 504)  # a proxy or the relay itself is briefly unavailable


@dataclass(frozen=True)
class SubmitResult:
    """The relay accepted the event (202) or had already seen its event_id (200, duplicate)."""

    event_id: str
    duplicate: bool
    messages: tuple[dict[str, Any], ...]
    status_code: int

    def __post_init__(self) -> None:
        if not isinstance(self.event_id, str) or not self.event_id:
            raise ValueError(f"event_id must be a non-empty str, got {self.event_id!r}")
        if not 200 <= self.status_code < 300:
            raise ValueError(f"status_code must be 2xx, got {self.status_code!r}")


class RelayClientError(Exception):
    """The relay refused the event, or could not be reached.

    `code` is the relay's snake_case error code (or "connection_error", "timeout",
    "bad_response" from this side); `status` the HTTP-like status, None when nothing came back;
    `fields` the per-field validation messages, if any.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}


@runtime_checkable
class RelayClient(Protocol):
    """Anything that can submit an Event to the relay."""

    def submit(self, event: Event) -> SubmitResult:
        """Submit `event`; return the relay's answer or raise RelayClientError."""
        ...


def result_from_response(status: int, body: Any) -> SubmitResult:
    """Turn a relay answer (status, decoded JSON body) into a SubmitResult or raise."""
    if 200 <= status < 300:
        if not isinstance(body, dict) or not isinstance(body.get("event_id"), str):
            raise RelayClientError("bad_response", f"unexpected body, got {body!r}", status)
        messages = body.get("messages") or []
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise RelayClientError("bad_response", f"messages must be a list, got {messages!r}")
        # 200 + duplicate: the relay had the event already and sent nothing new. Still success.
        return SubmitResult(body["event_id"], bool(body.get("duplicate")), tuple(messages), status)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        fields = error.get("fields")
        raise RelayClientError(
            error["code"],
            str(error.get("message") or error["code"]),
            status,
            fields if isinstance(fields, dict) else None,
        )
    raise RelayClientError(
        f"http_{status}", f"relay answered without an error body: {body!r}", status
    )


def _is_timeout(exc: requests.RequestException) -> bool:
    # After the last retry requests reports a read timeout as a ConnectionError wrapping
    # urllib3's MaxRetryError; look inside so the caller still learns it was a timeout.
    if isinstance(exc, requests.Timeout):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(inner, MaxRetryError) and isinstance(inner.reason, ReadTimeoutError)


class InProcessRelayClient:
    """Submit by calling the relay's intake function with the wire dict.

    `submit_wire(wire) -> (status, body)` is whatever the relay exposes for this; going through
    the wire dict keeps the in-process path exactly as strict as HTTP.
    """

    def __init__(self, submit_wire: Callable[[dict[str, Any]], tuple[int, Any]]) -> None:
        self._submit_wire = submit_wire

    def submit(self, event: Event) -> SubmitResult:
        """Submit `event`; return the relay's answer or raise RelayClientError."""
        status, body = self._submit_wire(event_to_wire(event))
        return result_from_response(status, body)


class HttpRelayClient:
    """Submit over HTTP: `POST {base_url}/v1/events` with `Authorization: Bearer <api_key>`.

    Retries connection errors and 502/503/504 with exponential backoff (urllib3's Retry on the
    session adapter). Retrying a POST is safe here because the relay is idempotent on
    `event_id`: a repeat is answered 200 "duplicate" with the original messages, never sent
    twice. For the same reason reads that fail after the request went out are retried too.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_factor: float = 0.5,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not api_key:
            raise ValueError(f"api_key must not be empty, got {api_key!r}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries!r}")
        self.url = base_url.rstrip("/") + "/v1/events"
        self.timeout = timeout
        self._api_key = api_key
        self._own_session = session is None
        self.session = session or requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=frozenset({"POST"}),  # urllib3 skips POST by default; see above
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_max=10.0,
            raise_on_status=False,  # hand back the last 503 so its error body can be read
            respect_retry_after_header=True,
        )
        # Mounted for this relay's URL prefix only, so a session passed in keeps its other
        # adapters for other hosts untouched.
        self.session.mount(base_url.rstrip("/") + "/", HTTPAdapter(max_retries=retry))

    def submit(self, event: Event) -> SubmitResult:
        """POST `event`; return the relay's answer or raise RelayClientError."""
        try:
            response = self.session.post(
                self.url,
                json=event_to_wire(event),
                headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:  # ConnectionError, Timeout, RetryError …
            if _is_timeout(exc):
                raise RelayClientError("timeout", f"no answer in {self.timeout}s") from exc
            raise RelayClientError("connection_error", str(exc)) from exc
        try:
            body = response.json()
        except ValueError:
            body = response.text[:200]  # e.g. an HTML page from a proxy; shown in the error
        return result_from_response(response.status_code, body)

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> HttpRelayClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
