"""The relay: consent-aware SMS and Viber for stores and CRMs.

`create_app` is the app factory (docs/architecture.md, 'API'): configuration from the
environment (`RELAY_*`) with explicit overrides, one blueprint per API module
(`relay.api.MODULES`), the connectors.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from relay.platforms.connectors_host import mount_connectors
from relay.runtime import Runtime
from relay.wiring import build_runtime


def create_app(config: dict[str, Any] | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the Flask app; pass `runtime` to share one with a worker or a test."""
    # the HTTP side is imported here, so the CLI and the workers do not load it
    from relay.api import MODULES, events, guards, ratelimit, spool_http
    from relay.api.http import register_error_handlers
    from relay.logs import setup_logging, setup_sentry

    rt = runtime or build_runtime(config)
    app = Flask("relay")
    app.config["RELAY"] = rt.config
    app.config["MAX_CONTENT_LENGTH"] = int(rt.config["MAX_BODY_BYTES"])
    app.config["JSON_SORT_KEYS"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["relay"] = rt
    setup_logging(rt.config["LOG_LEVEL"])
    setup_sentry(rt.config.get("SENTRY_DSN"), "web")

    @app.before_request
    def _open_session() -> None:
        g.db = rt.session()

    @app.teardown_request
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    register_error_handlers(app)
    spool_http.install(app, rt)  # events and webhooks wait in a journal while the database is down
    ratelimit.install(app)  # per key / address / store, before anything reads the body
    guards.install(app)  # bounded <int:…>, body and JSON depth limits: before the blueprints
    events.install(app, rt)  # concurrent events share one transaction (group commit)
    for module in MODULES:
        app.register_blueprint(module.bp)

    mount_connectors(app, rt)
    from relay.cabinet.blueprint import init_cabinet

    init_cabinet(app, rt.config)
    return app


__all__ = ["create_app"]
