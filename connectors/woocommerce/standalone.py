"""The WooCommerce receiver as its own small Flask app, posting events to a relay over HTTP.

For a store owner who runs the connector next to the shop (or a relay operator who keeps
connectors out of the relay process). Configuration (environment or `create_app(config)`):

- RELAY_URL — the relay's base URL; events go to `POST {RELAY_URL}/v1/events`;
- RELAY_API_KEY — a relay key of the tenant (scopes events:write and admin); the store owner
  also sends it as `Authorization: Bearer …` to POST /connectors/woocommerce/installations;
- PUBLIC_URL — where WooCommerce reaches this app (for the webhook URL it shows).

Installations and the inbox are kept in memory (`MemoryInstallationStore`, `MemoryInbox`):
re-run the installation call after a restart. Deliveries are processed in a background thread
right after they are recorded. The relay's flows cannot be loaded over its public API, so the
default flows document is kept in `app.extensions["woocommerce"]["flows"]` for the operator to
load with the relay's tools. Write-back (order notes) runs where the relay runs: mount the
connector in the relay for it. Run:
`RELAY_URL=… RELAY_API_KEY=… flask --app "connectors.woocommerce.standalone:create_app()" run`.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from connectors.woocommerce import jobs
from connectors.woocommerce.blueprint import create_blueprint
from connectors.woocommerce.mapping import PLATFORM
from shared.client import HttpRelayClient
from shared.connector import ConnectorContext, InboxRecord, set_context
from shared.installations import MemoryInstallationStore

log = logging.getLogger("connectors.woocommerce.standalone")
TENANT = "relay-key-tenant"  # the one tenant this app acts for: the owner of RELAY_API_KEY


class MemoryInbox:
    """An in-memory `Inbox` (records are lost on restart; the relay's events are not)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._rows: dict[int, InboxRecord] = {}
        self._keys: set[str] = set()

    def record(
        self,
        platform: str,
        account: str,
        kind: str,
        payload: dict[str, Any],
        dedupe_key: str | None = None,
    ) -> InboxRecord | None:
        """Store a payload; None for a repeated dedupe key."""
        with self._lock:
            if dedupe_key is not None:
                if dedupe_key in self._keys:
                    return None
                self._keys.add(dedupe_key)
            row = InboxRecord(
                next(self._ids), platform, account, kind, payload, "received", None, dedupe_key
            )
            self._rows[row.id] = row
            return row

    def load(self, record_id: int) -> InboxRecord | None:
        """A record by id."""
        with self._lock:
            return self._rows.get(record_id)

    def finish(self, record_id: int, status: str, detail: str | None = None) -> None:
        """Close a record with its outcome."""
        with self._lock:
            row = self._rows[record_id]
            self._rows[record_id] = InboxRecord(
                row.id,
                row.platform,
                row.account,
                row.kind,
                row.payload,
                status,
                detail,
                row.dedupe_key,
            )


class FlowsKeeper:
    """The `TenantDirectory` of the stand-alone app: one tenant, flows kept for the operator."""

    def __init__(self) -> None:
        self.flows: dict[str, Any] | None = None

    def ensure_tenant(
        self, platform: str, account: str, name: str, region: str, timezone: str | None = None
    ) -> str:
        """Always the key's tenant."""
        return TENANT

    def set_tenant_status(self, tenant_id: str, status: str) -> None:
        """Nothing to change remotely; logged for the operator."""
        log.warning("tenant status %s requested (change it in the relay)", status)

    def load_flows(self, tenant_id: str, document: dict[str, Any]) -> None:
        """Keep the document; the relay's public API has no flows endpoint."""
        self.flows = document
        log.warning("default WooCommerce flows kept for the operator to load into the relay")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The stand-alone app with the webhook receiver at /connectors/woocommerce."""
    cfg = {
        "RELAY_URL": os.environ.get("RELAY_URL", "http://127.0.0.1:8000"),
        "RELAY_API_KEY": os.environ.get("RELAY_API_KEY", ""),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        **(config or {}),
    }
    if not cfg["RELAY_API_KEY"]:
        raise ValueError("RELAY_API_KEY is required")
    relay = HttpRelayClient(cfg["RELAY_URL"], cfg["RELAY_API_KEY"])
    pool = ThreadPoolExecutor(max_workers=int(cfg.get("WORKERS", 2)))
    tenants = FlowsKeeper()

    def enqueue(_path: str, *args: Any) -> None:
        pool.submit(_run, ctx, *args)

    ctx = ConnectorContext(
        platform=PLATFORM,
        store=MemoryInstallationStore(),
        inbox=MemoryInbox(),
        tenants=tenants,
        client_for=lambda _tenant: relay,
        enqueue=enqueue,
        public_url=cfg["PUBLIC_URL"],
        authenticate=lambda key: (
            TENANT if hmac.compare_digest(key.encode(), cfg["RELAY_API_KEY"].encode()) else None
        ),
    )
    set_context(ctx)
    app = Flask("relay-woocommerce")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.register_blueprint(create_blueprint(ctx), url_prefix="/connectors/woocommerce")
    app.extensions["woocommerce"] = {"ctx": ctx, "pool": pool, "tenants": tenants}
    return app


def _run(ctx: ConnectorContext, inbox_id: int) -> None:
    try:
        jobs.process(ctx, inbox_id)
    except Exception:  # the relay was unreachable: the record stays `received`
        log.exception("processing failed", extra={"inbox_id": inbox_id})
