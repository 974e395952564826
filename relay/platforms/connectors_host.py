"""Hosting the connectors: contexts, blueprints under /connectors/<platform>, write-back.

The relay imports a connector only here (docs/architecture.md, 'Connectors'). A connector that does
not (yet) expose `create_blueprint` is skipped, so the relay runs with whichever connectors are
present.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from rq import Retry

from relay.adapters.pacing import RedisPacer
from relay.errors import RelayError
from relay.intake.intake import submit_event
from relay.platforms.installations import (
    DbClaimStore,
    DbInbox,
    DbInstallationStore,
    DbTenantDirectory,
)
from relay.runtime import Runtime
from relay.storage.models import Tenant
from relay.tenancy.tenants import authenticate as check_key
from shared.client import InProcessRelayClient
from shared.connector import ConnectorContext, get_context, set_context
from shared.writeback import Writeback

log = logging.getLogger("relay.connectors")

PLATFORMS = ("woocommerce", "bitrix24", "amocrm")


def _submitter(
    rt: Runtime, tenant_id: str
) -> Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]:
    """An in-process submit function acting as `tenant_id` (what POST /v1/events does)."""

    def submit(wire: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with rt.session() as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None:
                return 404, RelayError(
                    "tenant_not_found", f"no tenant {tenant_id!r}", 404
                ).to_dict()
            try:
                result = submit_event(session, tenant, wire, rt.now())
                session.commit()  # the outbox puts the new messages on the queue
            except RelayError as exc:
                session.rollback()
                return exc.status, exc.to_dict()
        return result.status, result.body

    return submit


def build_context(rt: Runtime, platform: str) -> ConnectorContext:
    """The context handed to one connector."""

    def enqueue(path: str, *args: Any) -> None:
        # connector jobs re-read their inbox record, so a retry after a failure (the database
        # was down while it ran) is harmless; without one the record would stay `received`
        rt.dispatcher.queue.enqueue(
            path,
            *args,
            result_ttl=0,
            failure_ttl=7 * 86400,
            retry=Retry(max=6, interval=[5, 15, 30, 60, 300, 900]),
        )

    def authenticate(key: str) -> str | None:
        with rt.session() as session:
            found = check_key(session, key)
        if found is None or "admin" not in found[1].scopes:
            return None
        return found[0].id

    return ConnectorContext(
        platform=platform,
        authenticate=authenticate,
        store=DbInstallationStore(rt),
        inbox=DbInbox(rt),
        claims=DbClaimStore(rt),
        tenants=DbTenantDirectory(rt),
        client_for=lambda tenant_id: InProcessRelayClient(_submitter(rt, tenant_id)),
        enqueue=enqueue,
        public_url=rt.config["PUBLIC_URL"],
        config=dict(rt.config.get("CONNECTORS", {}).get(platform, {})),
        cabinet_link=lambda tenant_id: _cabinet_link(rt, platform, tenant_id),
        pacer=RedisPacer(rt.redis),  # the platforms' rates, shared by every worker and host
    )


def _cabinet_link(rt: Runtime, platform: str, tenant_id: str) -> str | None:
    """A one-time sign-in link to the web cabinet for a connector's settings page."""
    from relay.errors import RelayError
    from relay.people.sso import PLATFORMS, issue_link
    from relay.storage.models import Tenant

    if platform not in PLATFORMS:
        return None
    with rt.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            return None
        try:
            return str(issue_link(rt.config, tenant, platform, rt.now())["url"])
        except RelayError:  # a disabled tenant: no link
            return None


def _module(platform: str) -> Any | None:
    try:
        return importlib.import_module(f"connectors.{platform}")
    except ImportError as exc:
        log.warning("connector not importable", extra={"platform": platform, "error": str(exc)})
        return None


def install_connectors(rt: Runtime) -> dict[str, Writeback]:
    """Register every connector's context in this process; return their write-backs."""
    writebacks: dict[str, Writeback] = {}
    for platform in PLATFORMS:
        module = _module(platform)
        if module is None or not hasattr(module, "create_blueprint"):
            continue
        ctx = build_context(rt, platform)
        set_context(ctx)
        if hasattr(module, "create_writeback"):
            try:
                writebacks[platform] = module.create_writeback(ctx)
            except Exception:  # one broken connector must not take the relay down
                log.exception("connector write-back failed to start", extra={"platform": platform})
    rt.writebacks = writebacks
    return writebacks


def mount_connectors(app: Flask, rt: Runtime) -> list[str]:
    """Mount each connector's blueprint under /connectors/<platform>."""
    install_connectors(rt)
    mounted = []
    for platform in PLATFORMS:
        module = _module(platform)
        if module is None or not hasattr(module, "create_blueprint"):
            continue
        try:
            blueprint = module.create_blueprint(get_context(platform))
        except Exception:  # logged; the relay and the other connectors keep working
            log.exception("connector failed to mount", extra={"platform": platform})
            continue
        app.register_blueprint(blueprint, url_prefix=f"/connectors/{platform}")
        mounted.append(platform)
    return mounted
