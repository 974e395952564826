"""Installing an account (the OAuth redirect) and building API clients for installed ones."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from connectors.amocrm.client import AmoClient
from connectors.amocrm.config import AmoConfig
from connectors.amocrm.errors import AmoApiError, AmoError, HttpError
from connectors.amocrm.ratelimit import SharedBucket
from connectors.amocrm.tokens import PLATFORM, StaticTokens, TokenEndpoint, TokenManager
from shared.connector import ConnectorContext
from shared.installations import Installation

log = logging.getLogger("connectors.amocrm.install")
SUPPORTED_COUNTRIES = ("RU", "BY", "KZ")


def client_for(ctx: ConnectorContext, config: AmoConfig, account: str) -> AmoClient:
    """An API client for an installed account; a refused refresh flags it needs_reauth."""

    def revoked(installation: Installation) -> None:
        # The tenant's messages cannot be reported (nor leads read) until someone re-installs.
        ctx.tenants.set_tenant_status(installation.tenant_id, "needs_reauth")

    tokens = TokenManager(ctx.store, TokenEndpoint(config), account, on_revoked=revoked)
    return AmoClient(config, tokens, account, bucket=shared_bucket(ctx, config, account))


def shared_bucket(ctx: ConnectorContext, config: AmoConfig, account: str) -> SharedBucket | None:
    """The account's bucket shared by every process, when the host keeps one (the relay does)."""
    if ctx.pacer is None:
        return None
    return SharedBucket(ctx.pacer, account, config.rate_per_second)


def webhook_url(ctx: ConnectorContext, installation: Installation) -> str:
    """Where amoCRM posts this account's webhooks (the secret is part of the path)."""
    return ctx.url_for(f"webhook/{installation.account}/{installation.secrets['webhook_secret']}")


@dataclass(frozen=True)
class InstallResult:
    """What the redirect handler reports."""

    installation: Installation
    webhook_url: str
    webhook_registered: bool
    created_tenant: bool

    def body(self) -> dict[str, Any]:
        """The JSON answer of the redirect handler."""
        settings = self.installation.settings
        return {
            "installed": True,
            "account": self.installation.account,
            "account_id": settings.get("account_id"),
            "tenant_id": self.installation.tenant_id,
            "created_tenant": self.created_tenant,
            "webhook_url": self.webhook_url,
            "webhook_registered": self.webhook_registered,
        }


def _account_settings(domain: str, account: dict[str, Any]) -> dict[str, Any]:
    if account.get("id") in (None, ""):
        raise AmoApiError("bad_response", "GET /api/v4/account answered without an id")
    country = str(account.get("country") or "").upper() or None
    currency = str(account.get("currency") or "").upper() or None
    return {
        "account_id": str(account["id"]),
        "subdomain": str(account.get("subdomain") or domain.split(".", 1)[0]),
        "domain": domain,
        "name": str(account.get("name") or domain),
        "country": country,
        "currency": currency if currency and len(currency) == 3 else None,
    }


def complete_install(
    ctx: ConnectorContext,
    config: AmoConfig,
    domain: str,
    code: str,
    tenant_id: str | None,
) -> InstallResult:
    """Exchange the code, learn the account, save the installation, subscribe the webhook.

    `tenant_id` comes from a verified state; without one (an install started from amoCRM's
    marketplace) the account gets its own tenant through `ensure_tenant`.
    """
    tokens = TokenEndpoint(config).exchange_code(domain, code)
    client = AmoClient(
        config, StaticTokens(tokens.access_token), domain, bucket=shared_bucket(ctx, config, domain)
    )
    account = _account_settings(domain, client.get_account())
    existing = ctx.store.get(PLATFORM, domain)
    if existing is not None and tenant_id and existing.tenant_id != tenant_id:
        raise HttpError(
            "account_linked_elsewhere",
            f"the amoCRM account {domain} is installed for another tenant; uninstall it there",
            409,
        )
    created = False
    if tenant_id is None:
        if existing is not None:
            tenant_id = existing.tenant_id
        else:
            country = account["country"]
            region = country if country in SUPPORTED_COUNTRIES else config.default_region
            tenant_id = ctx.tenants.ensure_tenant(PLATFORM, domain, account["name"], region, None)
            created = True
    old = existing.secrets if existing is not None else {}
    installation = ctx.store.save(
        Installation(
            tenant_id=tenant_id,
            platform=PLATFORM,
            account=domain,
            settings={**(existing.settings if existing else {}), **account},
            secrets={
                **tokens.as_secrets(),
                # the webhook URL survives a re-install, so amoCRM's subscription stays valid
                "webhook_secret": old.get("webhook_secret") or secrets.token_urlsafe(32),
                "refresh_lock": "",
            },
            status="active",
        )
    )
    if existing is not None and existing.status == "needs_reauth":
        ctx.tenants.set_tenant_status(tenant_id, "active")  # we flagged it; we lift it
    url = webhook_url(ctx, installation)
    registered = False
    if config.register_webhook:
        try:
            client.add_webhook(url, list(config.webhook_events))
            registered = True
        except AmoError as exc:  # e.g. the relay's URL is not https: add it by hand (docs)
            log.warning("webhook not registered", extra={"account": domain, "error": str(exc)})
    log.info("amoCRM account installed", extra={"account": domain, "tenant": tenant_id})
    return InstallResult(installation, url, registered, created)
