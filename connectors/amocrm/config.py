"""The integration's configuration (`RELAY_CONNECTORS={"amocrm": {...}}` → `ctx.config`).

Keys (see docs/connectors/amocrm.md):

- `client_id`, `client_secret`, `redirect_uri` — the integration as registered in amoCRM
  ("Интеграции" → the integration's keys tab). Required.
- `state_secret` — signs the OAuth `state`; defaults to `client_secret`.
- `allowed_domains` — account domain suffixes the OAuth `referer` may name (default
  amocrm.ru, amocrm.com, kommo.com). The token exchange posts our client secret to
  `https://{referer}/oauth2/access_token`, so the referer must never point anywhere else.
- `oauth_url` — where a user grants access (default https://www.amocrm.ru/oauth).
- `rate_per_second` (default 6: amoCRM documents at most 7, we keep a margin), `timeout`
  (seconds, default 10),
  `max_attempts` for 429 answers (default 4).
- `default_region` — the tenant region when the account's country is unknown (default RU).
- `register_webhook` (default true) and `webhook_events` (default add_lead, status_lead).
- `api_base_override` — FOR TESTS ONLY: send every account's API and token calls to this
  base URL (a local stand-in) instead of `https://{account domain}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_DOMAINS = ("amocrm.ru", "amocrm.com", "kommo.com")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"


class NotConfigured(RuntimeError):
    """The integration keys are missing from the relay's configuration."""


@dataclass(frozen=True)
class AmoConfig:
    """Validated connector settings."""

    client_id: str
    client_secret: str
    redirect_uri: str
    state_secret: str
    allowed_domains: tuple[str, ...] = DEFAULT_DOMAINS
    oauth_url: str = "https://www.amocrm.ru/oauth"
    api_base_override: str | None = None
    rate_per_second: float = 6.0
    timeout: float = 10.0
    max_attempts: int = 4
    default_region: str = "RU"
    register_webhook: bool = True
    webhook_events: tuple[str, ...] = ("add_lead", "status_lead")
    state_max_age: int = 3600

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> AmoConfig:
        """Build from `ctx.config`; raises NotConfigured naming the missing keys."""
        missing = [k for k in ("client_id", "client_secret", "redirect_uri") if not raw.get(k)]
        if missing:
            raise NotConfigured(f"amocrm connector needs {', '.join(missing)} in its config")
        domains = tuple(d.lower().lstrip(".") for d in raw.get("allowed_domains", DEFAULT_DOMAINS))
        return cls(
            client_id=str(raw["client_id"]),
            client_secret=str(raw["client_secret"]),
            redirect_uri=str(raw["redirect_uri"]),
            state_secret=str(raw.get("state_secret") or raw["client_secret"]),
            allowed_domains=domains,
            oauth_url=str(raw.get("oauth_url") or cls.oauth_url),
            api_base_override=raw.get("api_base_override") or None,
            rate_per_second=float(raw.get("rate_per_second", 6.0)),
            timeout=float(raw.get("timeout", 10.0)),
            max_attempts=max(1, int(raw.get("max_attempts", 4))),
            default_region=str(raw.get("default_region", "RU")).upper(),
            register_webhook=bool(raw.get("register_webhook", True)),
            webhook_events=tuple(raw.get("webhook_events", cls.webhook_events)),
            state_max_age=int(raw.get("state_max_age", 3600)),
        )

    def account_domain(self, referer: str) -> str | None:
        """The account's domain from a `referer` ("example.amocrm.ru"), or None if not allowed.

        Accepts a bare host or a URL; one subdomain label under an allowed suffix only.
        """
        host = (referer or "").strip().lower()
        host = re.sub(r"\A[a-z]+://", "", host).split("/", 1)[0]
        for suffix in self.allowed_domains:
            if re.fullmatch(rf"{_LABEL}\.{re.escape(suffix)}", host):
                return host
        return None

    def api_base(self, domain: str) -> str:
        """Where an account's API lives (the stand-in's URL in tests)."""
        return (self.api_base_override or f"https://{domain}").rstrip("/")
