"""The amoCRM REST API v4 client of one account: tokens, rate limit, backoff, masked logs.

- Every call waits for the account's token bucket (about 7 requests/s, amoCRM's limit).
- A 429 answer pauses the whole account's bucket (Retry-After when given, else exponential)
  and retries, up to `max_attempts`; then the call fails as transient.
- A 401 answer refreshes the access token once (see tokens.py) and retries.
- Connection errors and 502/503/504 are retried by urllib3's Retry for GET only: a POST
  (a note) that may have reached amoCRM is not repeated blindly.
- Answers: application/hal+json on success, application/problem+json on errors; 204 means
  "nothing found" for a GET.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from connectors.amocrm.config import AmoConfig
from connectors.amocrm.errors import AmoApiError, AmoAuthError
from connectors.amocrm.ratelimit import SharedBucket, TokenBucket, bucket_for

log = logging.getLogger("connectors.amocrm.client")
MAX_BACKOFF = 30.0


class TokenSource(Protocol):
    """Where the client gets its bearer token (TokenManager or StaticTokens)."""

    def access_token(self) -> str:
        """A token to use now."""
        ...

    def refresh(self, stale: str | None) -> str:
        """A replacement for a refused token."""
        ...


def _session(config: AmoConfig) -> requests.Session:
    session = requests.Session()
    retry = Retry(
        total=2,
        connect=2,
        read=2,
        status=2,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=0.3,
        raise_on_status=False,
        respect_retry_after_header=False,  # 429 is handled below, for the whole account
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class AmoClient:
    """Calls to one account's `/api/v4`."""

    def __init__(
        self,
        config: AmoConfig,
        tokens: TokenSource,
        domain: str,
        session: requests.Session | None = None,
        bucket: TokenBucket | SharedBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.domain = domain
        self.base = config.api_base(domain)
        self.session = session or _session(config)
        self.bucket = bucket or bucket_for(domain, config.rate_per_second)
        self._sleep = sleep

    # --- the calls the connector makes ----------------------------------------------------

    def get_account(self) -> dict[str, Any]:
        """GET /api/v4/account: id, name, subdomain, country, currency …"""
        return self.request("GET", "/api/v4/account") or {}

    def get_lead(self, lead_id: int) -> dict[str, Any] | None:
        """GET /api/v4/leads/{id}?with=contacts, or None when the lead does not exist."""
        lead = self.request("GET", f"/api/v4/leads/{int(lead_id)}", params={"with": "contacts"})
        return cast("dict[str, Any] | None", lead)  # one entity's JSON is an object

    def get_contact(self, contact_id: int) -> dict[str, Any] | None:
        """GET /api/v4/contacts/{id} (its custom_fields_values hold the phones)."""
        contact = self.request("GET", f"/api/v4/contacts/{int(contact_id)}")
        return cast("dict[str, Any] | None", contact)  # one entity's JSON is an object

    def add_lead_notes(self, lead_id: int, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST /api/v4/leads/{id}/notes with a JSON array; returns the created notes."""
        answer = self.request("POST", f"/api/v4/leads/{int(lead_id)}/notes", json=notes) or {}
        return list((answer.get("_embedded") or {}).get("notes") or [])

    def add_webhook(self, destination: str, events: list[str]) -> dict[str, Any]:
        """POST /api/v4/webhooks: subscribe `destination` to `events` (status_lead …)."""
        body = {"destination": destination, "settings": events, "sort": 10}
        return self.request("POST", "/api/v4/webhooks", json=body) or {}

    # --- transport --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One API call with rate limit, 401 refresh and 429 backoff; None for 204/404."""
        refreshed = False
        token = self.tokens.access_token()
        for attempt in range(1, self.config.max_attempts + 1):
            self.bucket.acquire()
            try:
                resp = self.session.request(
                    method,
                    self.base + path,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.config.timeout,
                )
            except requests.RequestException as exc:
                raise AmoApiError(
                    "connection_error", f"{method} {path}: {exc}", transient=True
                ) from exc
            if resp.status_code == 401 and not refreshed:
                refreshed = True  # the token may have been rotated elsewhere or revoked
                token = self.tokens.refresh(token)
                continue
            if resp.status_code == 429:
                wait = _retry_after(resp) or min(MAX_BACKOFF, 0.5 * 2 ** (attempt - 1))
                log.warning(
                    "amoCRM rate limit hit, backing off",
                    extra={"account": self.domain, "path": path, "wait": wait},
                )
                self.bucket.pause(wait)
                if attempt < self.config.max_attempts:
                    self._sleep(wait)
                continue
            return self._answer(method, path, resp)
        raise AmoApiError(
            "rate_limited",
            f"{method} {path}: still 429 after {self.config.max_attempts} attempts",
            429,
            transient=True,
        )

    def _answer(self, method: str, path: str, resp: requests.Response) -> Any:
        status = resp.status_code
        if status == 401:
            raise AmoAuthError("unauthorized", f"{method} {path} refused after a refresh", 401)
        if status in (204, 404) and method == "GET":
            return None
        if status >= 400:
            detail = _problem(resp)
            raise AmoApiError(
                "api_error", f"{method} {path}: {detail}", status, transient=status >= 500
            )
        if status == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise AmoApiError("bad_response", f"{method} {path}: not JSON", status) from exc


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    try:
        return min(MAX_BACKOFF, max(0.0, float(value))) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _problem(resp: requests.Response) -> str:
    """A short description from amoCRM's problem+json (title, detail, validation errors)."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason or str(resp.status_code)
    if not isinstance(body, dict):
        return str(body)[:200]
    parts = [str(body.get(k)) for k in ("title", "detail") if body.get(k)]
    if body.get("validation-errors"):
        parts.append(str(body["validation-errors"])[:300])
    return "; ".join(parts) or str(resp.status_code)
