"""A small client for the WooCommerce REST API v3 (order notes), with the documented auth.

- HTTPS stores: HTTP Basic auth with the consumer key and secret (the documented way).
- HTTP stores: OAuth 1.0a one-legged, parameters in the query string (Basic auth is refused
  over plain HTTP by WooCommerce; see `oauth1`).
- Connection failures (nothing reached the store) are retried by urllib3's Retry on the
  session adapter. Answers are retried here instead, because every attempt over HTTP needs a
  fresh OAuth nonce (WooCommerce refuses a nonce it has seen) and urllib3 would replay the
  signed URL: 502/503/504 for GET with exponential backoff (a POST is never repeated after
  it was sent, so a note is never written twice by a retry);
- 429 Too Many Requests (hosts and security plugins rate-limit wp-json): wait `Retry-After`
  (seconds or an HTTP date) when it is short, else raise `WooCommerceRateLimited` so the job
  is retried later instead of holding a worker.
- Errors come back as WordPress REST errors `{"code", "message", "data": {"status"}}` and are
  raised as `WooCommerceError` with that code. Logs never show keys, secrets or phone numbers.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from connectors.woocommerce import oauth1
from shared.phones import mask_phones_in_text

log = logging.getLogger("connectors.woocommerce.rest")
USER_AGENT = "relay-woocommerce/1.0"
RETRY_STATUSES = (502, 503, 504)


class WooCommerceError(Exception):
    """The store answered with an error (`code` is WordPress's, e.g. woocommerce_rest_…)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code, self.message, self.status = code, message, status

    @property
    def auth_failed(self) -> bool:
        """The key or secret is wrong, revoked or lacks write permission."""
        return self.status == 401 or self.code == "woocommerce_rest_authentication_error"

    @property
    def transient(self) -> bool:
        """Worth retrying later: the store was unreachable or answered 5xx/429."""
        return self.status is None or self.status >= 500 or self.status == 429


class WooCommerceRateLimited(WooCommerceError):
    """429 with a wait longer than the client is willing to sleep."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("rate_limited", f"retry after {retry_after:.0f}s", 429)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class WooCommerceClient:
    """Order notes on one store: `list_notes(order_id)`, `add_note(order_id, text)`."""

    def __init__(
        self,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_factor: float = 0.5,
        max_rate_wait: float = 30.0,
        rate_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not store_url.startswith(("http://", "https://")):
            raise ValueError(f"store_url must be an http(s) URL, got {store_url!r}")
        if not consumer_key or not consumer_secret:
            raise ValueError("consumer_key and consumer_secret are required")
        self.base = store_url.rstrip("/") + "/wp-json/wc/v3/"
        self.https = store_url.startswith("https://")
        self._key, self._secret = consumer_key, consumer_secret
        self.timeout, self.max_rate_wait = timeout, max_rate_wait
        self.rate_attempts, self._sleep = rate_attempts, sleep
        self.retries, self.backoff_factor = retries, backoff_factor
        self.session = session or requests.Session()
        retry = Retry(  # connection errors only: the request never reached the store
            total=retries,
            connect=retries,
            read=0,
            status=0,
            other=0,
            redirect=0,
            backoff_factor=backoff_factor,
            backoff_max=10.0,
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        self.session.mount(self.base, HTTPAdapter(max_retries=retry))

    def list_notes(self, order_id: str) -> list[dict[str, Any]]:
        """GET orders/<id>/notes?type=internal: the notes only staff see."""
        body = self._request("GET", f"orders/{order_id}/notes", params={"type": "internal"})
        if not isinstance(body, list):
            raise WooCommerceError("bad_response", "expected a list of notes", None)
        return [note for note in body if isinstance(note, dict)]

    def add_note(self, order_id: str, note: str, customer_note: bool = False) -> dict[str, Any]:
        """POST orders/<id>/notes with {"note", "customer_note"}; returns the created note."""
        body = self._request(
            "POST", f"orders/{order_id}/notes", json={"note": note, "customer_note": customer_note}
        )
        if not isinstance(body, dict) or "id" not in body:
            raise WooCommerceError("bad_response", "expected the created note", None)
        return body

    # --- transport ----------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Any:
        url = self.base + path
        limited = failed = 0
        while True:
            response = self._send(method, url, dict(params or {}), json)
            status = response.status_code
            if status == 429:
                limited += 1
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                wait = (2.0**limited) if wait is None else wait
                if wait > self.max_rate_wait or limited >= self.rate_attempts:
                    log.warning(
                        "store rate-limited the request", extra={"path": path, "wait": wait}
                    )
                    raise WooCommerceRateLimited(wait)
                self._sleep(wait)
            elif status in RETRY_STATUSES and method == "GET" and failed < self.retries:
                failed += 1
                self._sleep(min(10.0, self.backoff_factor * 2 ** (failed - 1)))
            else:
                return self._decode(method, path, response)

    def _send(
        self, method: str, url: str, params: dict[str, str], json: dict[str, Any] | None
    ) -> requests.Response:
        auth = None
        if self.https:
            auth = (self._key, self._secret)
        else:
            params = oauth1.signed_params(method, url, self._key, self._secret, params)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        try:
            return self.session.request(
                method,
                url,
                params=params,
                json=json,
                auth=auth,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            # The exception text may contain the URL with the OAuth query: keep it out.
            log.warning("store unreachable", extra={"url": url, "error": type(exc).__name__})
            raise WooCommerceError("connection_error", type(exc).__name__, None) from None

    def _decode(self, method: str, path: str, response: requests.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        log.info("woocommerce %s %s -> %s", method, path, response.status_code)
        if 200 <= response.status_code < 300:
            if body is None:
                raise WooCommerceError(
                    "bad_response", "the store answered without JSON", response.status_code
                )
            return body
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        raise WooCommerceError(
            str(code or f"http_{response.status_code}"),
            mask_phones_in_text(str(message or response.reason or ""))[:300],
            response.status_code,
        )
