"""The OAuth server's `refresh_token` grant (settings/oauth/auto-renewal.md in the REST docs).

`GET {oauth_url}?grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…` answers
a new pair (access token for an hour, refresh token for 180 days, rotated on every refresh)
together with the portal's `member_id` and `client_endpoint`. Because the answer comes from
the OAuth server and not from whoever posted to us, it is also what the install handler trusts
to learn which portal a token belongs to.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests

from connectors.bitrix24.config import B24Config
from connectors.bitrix24.errors import B24Error, PortalUnavailable, ReinstallRequired

log = logging.getLogger("connectors.bitrix24.oauth")


@dataclass(frozen=True)
class TokenGrant:
    """A fresh token pair and the portal it belongs to, as the OAuth server said."""

    access_token: str
    refresh_token: str
    member_id: str
    client_endpoint: str
    expires_at: int  # epoch seconds

    def secrets(self) -> dict[str, Any]:
        """The installation secrets this grant replaces."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "client_endpoint": self.client_endpoint,
            "expires_at": self.expires_at,
        }


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise PortalUnavailable("bad_response", f"the OAuth answer has no {key!r}")
    return value


def refresh_grant(
    cfg: B24Config, refresh_token: str, session: requests.Session | None = None
) -> TokenGrant:
    """Exchange `refresh_token` for a new pair.

    Raises ReinstallRequired when the OAuth server refuses the grant (`invalid_grant`,
    `invalid_client`, `PAYMENT_REQUIRED` …) and PortalUnavailable when it cannot answer.
    """
    http = session or requests.Session()
    params = {
        "grant_type": "refresh_token",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "refresh_token": refresh_token,
    }
    try:
        response = http.get(cfg.oauth_url, params=params, timeout=cfg.timeout)
    except requests.RequestException as exc:
        raise PortalUnavailable("connection_error", type(exc).__name__) from exc
    finally:
        if session is None:
            http.close()
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500 or not isinstance(body, dict):
        raise PortalUnavailable(
            "bad_response", "the OAuth server did not answer JSON", response.status_code
        )
    if body.get("error"):
        log.warning("refresh refused", extra={"error": body.get("error")})
        raise ReinstallRequired(
            str(body["error"]),
            str(body.get("error_description") or ""),
            response.status_code,
            "oauth/token",
        )
    if response.status_code != 200:
        raise B24Error("bad_response", "unexpected OAuth answer", response.status_code)
    expires_in = body.get("expires_in")
    digits = str(expires_in or "")
    lifetime = int(digits) if digits.isdigit() else 3600
    return TokenGrant(
        access_token=_text(body, "access_token"),
        refresh_token=_text(body, "refresh_token"),
        member_id=_text(body, "member_id"),
        client_endpoint=_text(body, "client_endpoint"),
        expires_at=int(time.time()) + lifetime,
    )
