"""Installing, binding and uninstalling the app on a portal.

Two things announce an install (settings/oauth/simple-way.md, common/events/on-app-install.md):
the install page the administrator's browser opens (query `DOMAIN`, `PROTOCOL`, `LANG`,
`APP_SID`; form `AUTH_ID`, `AUTH_EXPIRES`, `REFRESH_ID`, `member_id`, `status`, `PLACEMENT`,
and on current portals `APPLICATION_TOKEN`) and the `ONAPPINSTALL` event (`auth[...]` with both
tokens and `auth[application_token]`). Neither is signed, so nothing in them is stored before
it is verified:

- a portal we already know: the posted access token must work with `app.info` on the
  `client_endpoint` we stored earlier (learned from the OAuth server);
- a new portal, or a token that no longer works there: the posted refresh token is exchanged
  at the OAuth server, whose answer names the portal (`member_id`, `client_endpoint`). This is
  the one refresh not caused by an `expired_token` answer: it is how a new portal is trusted.

Verified tokens go to the installation's secrets (encrypted at rest by the relay); the inbox
only ever records that an install happened, never a token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests

from connectors.bitrix24.client import Bitrix24Client, http_session, mask_member
from connectors.bitrix24.config import B24Config
from connectors.bitrix24.defaults import (
    BOUND_EVENTS,
    PLATFORM,
    default_settings,
    region_for_lang,
)
from connectors.bitrix24.errors import B24Error, PortalUnavailable, ReinstallRequired
from connectors.bitrix24.flows import flows_document
from connectors.bitrix24.oauth import refresh_grant
from shared.connector import ConnectorContext
from shared.installations import Installation

log = logging.getLogger("connectors.bitrix24.install")
ACCESS_LIFETIME = 3600  # seconds; AUTH_EXPIRES / expires_in in Bitrix24's answers


class NotVerified(Exception):
    """The install request could not be tied to a portal by Bitrix24 itself."""


@dataclass(frozen=True)
class InstallClaim:
    """What an install request says, before it is verified."""

    member_id: str
    domain: str
    lang: str
    access_token: str
    refresh_token: str
    application_token: str | None
    source: str  # "install_page" | "ONAPPINSTALL"


def _field(data: dict[str, Any], *names: str) -> str:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def claim_from_page(
    query: dict[str, Any], form: dict[str, Any]
) -> tuple[InstallClaim | None, dict[str, list[str]]]:
    """The claim of the install page POST, or the missing fields."""
    both = {**query, **form}
    claim = InstallClaim(
        member_id=_field(form, "member_id") or _field(query, "member_id"),
        domain=_field(both, "DOMAIN"),
        lang=_field(both, "LANG"),
        access_token=_field(form, "AUTH_ID"),
        refresh_token=_field(form, "REFRESH_ID"),
        application_token=_field(form, "APPLICATION_TOKEN") or None,
        source="install_page",
    )
    return _checked(
        claim,
        {
            "member_id": "member_id",
            "DOMAIN": "domain",
            "AUTH_ID": "access_token",
            "REFRESH_ID": "refresh_token",
        },
    )


def claim_from_event(fields: dict[str, Any]) -> tuple[InstallClaim | None, dict[str, list[str]]]:
    """The claim of an ONAPPINSTALL event (flattened `auth[...]` and `data[...]`)."""
    auth = found if isinstance(found := fields.get("auth"), dict) else {}
    data = found if isinstance(found := fields.get("data"), dict) else {}
    claim = InstallClaim(
        member_id=_field(auth, "member_id"),
        domain=_field(auth, "domain"),
        lang=_field(data, "LANGUAGE_ID"),
        access_token=_field(auth, "access_token"),
        refresh_token=_field(auth, "refresh_token"),
        application_token=_field(auth, "application_token") or None,
        source="ONAPPINSTALL",
    )
    missing = {
        "auth[member_id]": "member_id",
        "auth[domain]": "domain",
        "auth[access_token]": "access_token",
        "auth[refresh_token]": "refresh_token",
        "auth[application_token]": "application_token",
    }
    return _checked(claim, missing)


def _checked(
    claim: InstallClaim, required: dict[str, str]
) -> tuple[InstallClaim | None, dict[str, list[str]]]:
    missing = {name: ["required"] for name, attr in required.items() if not getattr(claim, attr)}
    return (None, missing) if missing else (claim, {})


def verify(
    ctx: ConnectorContext, cfg: B24Config, claim: InstallClaim, session: requests.Session
) -> dict[str, Any]:
    """The claim's tokens as trusted secrets; raises NotVerified or PortalUnavailable."""
    known = ctx.store.get(PLATFORM, claim.member_id)
    endpoint = (known.secrets.get("client_endpoint") if known else None) or ""
    if endpoint:
        probe = Bitrix24Client.for_token(
            ctx, claim.member_id, endpoint, claim.access_token, cfg=cfg, session=session
        )
        try:
            probe.call("app.info")
            return {
                "access_token": claim.access_token,
                "refresh_token": claim.refresh_token,
                "client_endpoint": endpoint,
                "expires_at": int(time.time()) + ACCESS_LIFETIME,
            }
        except PortalUnavailable:
            raise
        except B24Error as exc:  # a stale or foreign token: ask the OAuth server instead
            log.info(
                "install token not accepted by the stored portal",
                extra={"member": mask_member(claim.member_id), "error": exc.code},
            )
    try:
        grant = refresh_grant(cfg, claim.refresh_token, session)
    except ReinstallRequired as exc:
        raise NotVerified(f"the OAuth server refused the refresh token: {exc.code}") from exc
    if not hmac.compare_digest(grant.member_id.encode(), claim.member_id.encode()):
        raise NotVerified("the OAuth server names another portal for these tokens")
    return grant.secrets()


def install(ctx: ConnectorContext, claim: InstallClaim) -> Installation:
    """Verify the claim, create or link the tenant, store tokens and settings."""
    cfg = B24Config.from_context(ctx)
    with http_session() as session:
        trusted = verify(ctx, cfg, claim, session)
    tenant_id = ctx.tenants.ensure_tenant(
        PLATFORM, claim.member_id, claim.domain, region_for_lang(claim.lang)
    )
    existing = ctx.store.get(PLATFORM, claim.member_id)
    settings = {**default_settings(), **(existing.settings if existing else {})}
    settings.update(
        domain=claim.domain,
        lang=claim.lang or settings.get("lang", ""),
        installed_at=int(time.time()),
        install_source=claim.source,
    )
    settings.pop("auth_error", None)
    old = dict(existing.secrets) if existing else {}
    new_secrets = {**old, **trusted, "form_key": old.get("form_key") or secrets.token_hex(32)}
    if claim.application_token:
        new_secrets["application_token"] = claim.application_token
    first = existing is None or not existing.settings.get("flows_loaded")
    if first:
        ctx.tenants.load_flows(tenant_id, flows_document(settings))
        settings["flows_loaded"] = True
    saved = ctx.store.save(
        Installation(tenant_id, PLATFORM, claim.member_id, settings, new_secrets, "active")
    )
    ctx.tenants.set_tenant_status(tenant_id, "active")
    log.info(
        "portal installed",
        extra={"member": mask_member(claim.member_id), "source": claim.source, "first": first},
    )
    return saved


def bind_portal(ctx: ConnectorContext, member_id: str) -> str:
    """Bind our event handlers and register the SMS provider, in one batch request.

    Handlers are dropped when the app is updated, so this runs after every install, update
    and app-page install; "already bound" answers count as success.
    """
    client = Bitrix24Client.for_installation(ctx, member_id)
    cfg = client.cfg
    commands: dict[str, tuple[str, dict[str, Any] | None]] = {
        f"bind_{event}": ("event.bind", {"event": event, "handler": ctx.url_for("events")})
        for event in BOUND_EVENTS
    }
    commands["sender"] = (
        "messageservice.sender.add",
        {
            "CODE": cfg.provider_code,
            "TYPE": "SMS",
            "HANDLER": ctx.url_for("sms"),
            "NAME": cfg.provider_name,
            "DESCRIPTION": "SMS через relay: стоп-лист, согласия и тихие часы проверяются.",
        },
    )
    _results, errors = client.batch(commands)
    problems = {key: err for key, err in errors.items() if not _already(err)}
    inst = ctx.store.get(PLATFORM, member_id)
    if inst is not None:
        bound = [e for e in BOUND_EVENTS if f"bind_{e}" not in problems]
        settings = {
            **inst.settings,
            "bindings": {
                "events": bound,
                "sender": "sender" not in problems,
                "handler": ctx.url_for("events"),
                "bound_at": int(time.time()),
                "errors": {k: str(v) for k, v in problems.items()},
            },
        }
        ctx.store.save(
            Installation(inst.tenant_id, PLATFORM, member_id, settings, inst.secrets, inst.status)
        )
    if problems:
        raise B24Error("bind_failed", "; ".join(f"{k}: {v}" for k, v in problems.items()))
    return f"bound {len(BOUND_EVENTS)} events and provider {cfg.provider_code}"


def _already(err: B24Error) -> bool:
    text = f"{err.code} {err.description}".lower()
    return "already" in text  # ERROR_SENDER_ALREADY_INSTALLED, "Handler already binded"


def uninstall(ctx: ConnectorContext, member_id: str) -> str:
    """ONAPPUNINSTALL: disable the tenant and forget tokens and bindings (the portal has
    already revoked the app's access, so nothing can be unbound remotely)."""
    inst = ctx.store.get(PLATFORM, member_id)
    if inst is None:
        return "no installation"
    kept = {k: v for k, v in inst.secrets.items() if k in ("client_endpoint", "form_key")}
    settings = {**inst.settings, "bindings": {}, "uninstalled_at": int(time.time())}
    ctx.store.save(Installation(inst.tenant_id, PLATFORM, member_id, settings, kept, "disabled"))
    ctx.tenants.set_tenant_status(inst.tenant_id, "disabled")
    log.info("portal uninstalled", extra={"member": mask_member(member_id)})
    return "tenant and installation disabled"
