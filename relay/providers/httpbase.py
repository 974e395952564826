"""Shared plumbing for gateway adapters that speak HTTP (SMS.ru, SMSC.ru, Twilio).

One `requests.Session` per adapter instance keeps TLS connections alive between sends (the
router caches instances per process, so a worker reuses them). urllib3 retries only *connect*
errors: a request that never reached the gateway is safe to repeat. A read timeout or a reset
after the request went out may mean the message was sent: `Provider.send` makes those
`ambiguous` and the message `unknown`, never resent blindly. A 5xx is the gateway's own answer
that it did not take the message (each adapter's documentation says so) and is retried with
backoff; a 429, whatever its body, is a throttle and waits (docs/security.md, "Duplicate
sends").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from relay.providers.base import (
    PERMANENT,
    THROTTLED,
    TRANSIENT,
    Provider,
    ProviderConfigError,
    ProviderError,
    retry_after_seconds,
)

CONNECT_TIMEOUT = 5.0  # seconds to open a connection; the gateways answer well within that
DEFAULT_READ_TIMEOUT = 20.0  # seconds to wait for an answer once the request is sent
COMMON_KEYS = frozenset({"base_url", "timeout"})


def make_session(connect_retries: int = 2) -> requests.Session:
    """A keep-alive session that retries connect errors only (never reads, never statuses)."""
    retry = Retry(
        total=None,
        connect=connect_retries,
        read=0,
        status=0,
        other=0,
        redirect=0,
        backoff_factor=0.2,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "relay-gateway-adapter/0.1"
    return session


def network_error(exc: requests.RequestException) -> ProviderError:
    """A network failure of a call that sends nothing (balance, price, status): transient."""
    if isinstance(exc, requests.Timeout):
        return ProviderError(TRANSIENT, "timeout", str(exc))
    if isinstance(exc, requests.ConnectionError):
        return ProviderError(TRANSIENT, "connection", str(exc))
    return ProviderError(TRANSIENT, "http", str(exc))


def to_decimal(value: Any) -> Decimal | None:
    """A gateway's number (JSON number or string, maybe with a comma) as Decimal, else None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        return None


def throttled(resp: requests.Response, gateway: str) -> ProviderError:
    """A 429 as a throttle, with the gateway's Retry-After when it sent one."""
    return ProviderError(
        THROTTLED,
        "rate_limited",
        f"{gateway} answered HTTP 429",
        retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
    )


class HttpProvider(Provider):
    """Base for HTTP adapters: config checks, a keep-alive session, JSON answers."""

    default_base_url: ClassVar[str]
    # keys each adapter accepts besides base_url/timeout; anything else is a typo worth an error
    config_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, name: str, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(name, config, **kwargs)
        self.session = make_session()
        self.base_url: str = self.config["base_url"]
        self.timeout = (CONNECT_TIMEOUT, float(self.config["timeout"]))

    # --- configuration -----------------------------------------------------------------

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Reject unknown keys, normalise base_url and timeout; subclasses check the rest."""
        unknown = sorted(set(config) - cls.config_keys - COMMON_KEYS)
        if unknown:
            raise ProviderConfigError(
                f"{cls.type}: unknown config key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(cls.config_keys | COMMON_KEYS))}"
            )
        base = config.get("base_url") or cls.default_base_url
        if not isinstance(base, str) or not base.startswith(("https://", "http://")):
            raise ProviderConfigError(f"{cls.type}: base_url must be an http(s) URL")
        config["base_url"] = base.rstrip("/")
        timeout = config.get("timeout", DEFAULT_READ_TIMEOUT)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not (0 < timeout <= 120)
        ):
            raise ProviderConfigError(f"{cls.type}: timeout must be 0 < seconds <= 120")
        config["timeout"] = float(timeout)
        return config

    @classmethod
    def require(cls, config: Mapping[str, Any], key: str) -> str:
        """A required non-empty string setting; ProviderConfigError naming the field."""
        value = config.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ProviderConfigError(f"{cls.type}: {key} is required (a non-empty string)")
        return value.strip()

    @classmethod
    def optional(cls, config: Mapping[str, Any], key: str) -> str | None:
        """An optional string setting (None or a non-empty string)."""
        value = config.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ProviderConfigError(f"{cls.type}: {key} must be a string")
        return value.strip()

    @classmethod
    def flag(cls, config: Mapping[str, Any], key: str, default: bool = False) -> bool:
        """A boolean setting; JSON true/false (or the strings the CLI might pass)."""
        value = config.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", ""):
            return value.lower() in ("true", "1")
        raise ProviderConfigError(f"{cls.type}: {key} must be true or false")

    # --- HTTP --------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of a gateway path."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def post(
        self, path: str, data: Mapping[str, Any] | list[tuple[str, Any]], **kwargs: Any
    ) -> requests.Response:
        """POST a form; credentials travel in the body, never in a logged URL."""
        return self.session.post(self.url(path), data=data, timeout=self.timeout, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET a resource."""
        return self.session.get(self.url(path), timeout=self.timeout, **kwargs)

    def json_answer(self, resp: requests.Response) -> Any:
        """The decoded JSON body; a 429 (any body: SMS.ru's is plain text) is a throttle, a 5xx
        or a body that is not JSON a transient error."""
        if resp.status_code == 429:
            raise throttled(resp, self.type)
        if resp.status_code >= 500:
            raise ProviderError(
                TRANSIENT,
                f"http_{resp.status_code}",
                f"{self.type} answered HTTP {resp.status_code}",
            )
        try:
            return resp.json()
        except ValueError as exc:
            kind = TRANSIENT if resp.status_code < 400 else PERMANENT
            raise ProviderError(
                kind, "bad_response", f"{self.type} answered HTTP {resp.status_code} without JSON"
            ) from exc

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()
