"""The connector's configuration: the relay's `CONNECTORS["bitrix24"]` block (RELAY_CONNECTORS).

```json
{"bitrix24": {"client_id": "app.5f…", "client_secret": "…",
              "oauth_url": "https://oauth.bitrix.info/oauth/token/"}}
```

`client_id` / `client_secret` are the application's keys from the Bitrix24 partner cabinet (or
a local application's form); without them the connector cannot refresh tokens, so installs are
refused with `connector_not_configured`. The remaining keys tune the REST client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connectors.bitrix24.defaults import (
    DEFAULT_OAUTH_URL,
    DEFAULT_PROVIDER_CODE,
    DEFAULT_PROVIDER_NAME,
)
from shared.connector import ConnectorContext

_CODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,50}$")  # messageservice.sender.add CODE characters


class NotConfigured(RuntimeError):
    """client_id / client_secret are missing from the relay's configuration."""


def _number(raw: dict[str, Any], key: str, default: float, low: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise ValueError(f"CONNECTORS.bitrix24.{key} must be a number ≥ {low}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class B24Config:
    """Typed view of `ctx.config`."""

    client_id: str
    client_secret: str
    oauth_url: str = DEFAULT_OAUTH_URL
    provider_code: str = DEFAULT_PROVIDER_CODE
    provider_name: str = DEFAULT_PROVIDER_NAME
    rate_per_second: float = 2.0  # Bitrix24's leaky bucket drains 2 requests/s on most plans
    burst: float = 5.0
    max_retries: int = 5  # QUERY_LIMIT_EXCEEDED / 5xx answers retried with backoff
    backoff_seconds: float = 1.0
    backoff_max: float = 20.0
    timeout: float = 15.0

    @classmethod
    def from_context(cls, ctx: ConnectorContext) -> B24Config:
        """Read and check the config; raises NotConfigured without the app's keys."""
        raw = dict(ctx.config or {})
        client_id, secret = raw.get("client_id"), raw.get("client_secret")
        if not (isinstance(client_id, str) and client_id and isinstance(secret, str) and secret):
            raise NotConfigured(
                "CONNECTORS.bitrix24.client_id and client_secret are required (RELAY_CONNECTORS)"
            )
        code = raw.get("provider_code", DEFAULT_PROVIDER_CODE)
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise ValueError(
                f"CONNECTORS.bitrix24.provider_code must match a-z A-Z 0-9 . - _, got {code!r}"
            )
        oauth_url = raw.get("oauth_url") or DEFAULT_OAUTH_URL
        if not isinstance(oauth_url, str) or not oauth_url.startswith(("https://", "http://")):
            raise ValueError(f"CONNECTORS.bitrix24.oauth_url must be an URL, got {oauth_url!r}")
        return cls(
            client_id=client_id,
            client_secret=secret,
            oauth_url=oauth_url,
            provider_code=code,
            provider_name=str(raw.get("provider_name") or DEFAULT_PROVIDER_NAME),
            rate_per_second=_number(raw, "rate_per_second", 2.0, 0.01),
            burst=_number(raw, "burst", 5.0, 1.0),
            max_retries=int(_number(raw, "max_retries", 5, 0)),
            backoff_seconds=_number(raw, "backoff_seconds", 1.0, 0.0),
            backoff_max=_number(raw, "backoff_max", 20.0, 0.0),
            timeout=_number(raw, "timeout", 15.0, 0.1),
        )
