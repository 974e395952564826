"""The connector's HTTP endpoints, mounted by the relay under /connectors/amocrm.

    POST /install                      start an install (relay admin key) → authorize_url
    GET  /oauth/callback               amoCRM's redirect: code, referer, state
    POST /webhook/<account>/<secret>   amoCRM webhooks (form-encoded)
    GET|PUT /settings                  the account's settings (admin key or widget token)
    GET  /settings/page                a small settings page the widget can open

Every error is the relay's JSON shape `{"error": {"code", "message", "fields"}}`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from connectors.amocrm import page, webhooks
from connectors.amocrm.auth import admin_tenant, make_state, read_state, verify_widget_token
from connectors.amocrm.config import AmoConfig, NotConfigured
from connectors.amocrm.errors import AmoAuthError, AmoError, HttpError
from connectors.amocrm.install import complete_install, webhook_url
from connectors.amocrm.settings import flows_document, load_settings, public_settings
from connectors.amocrm.tokens import PLATFORM, TokenEndpoint, TokenManager
from shared.connector import ConnectorContext
from shared.installations import Installation

log = logging.getLogger("connectors.amocrm.views")


def _json(body: Any, status: int = 200) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp


def create_blueprint(ctx: ConnectorContext) -> Blueprint:
    """The blueprint; `ctx.config` holds the integration keys (read on each request)."""
    bp = Blueprint("amocrm", __name__)

    def config() -> AmoConfig:
        try:
            return AmoConfig.from_mapping(ctx.config)
        except NotConfigured as exc:
            raise HttpError("not_configured", str(exc), 503) from None

    @bp.errorhandler(HttpError)
    def _http_error(exc: HttpError) -> Response:
        return _cors(_json(exc.body(), exc.status))

    @bp.errorhandler(HTTPException)
    def _werkzeug_error(exc: HTTPException) -> Response:
        code = (exc.name or "http_error").lower().replace(" ", "_")
        return _json(
            HttpError(code, exc.description or code, exc.code or 400).body(), exc.code or 400
        )

    @bp.post("/install")
    def install_start() -> Response:
        cfg = config()
        tenant_id = admin_tenant(ctx, request)
        state = make_state(cfg, tenant_id)
        query = urlencode({"client_id": cfg.client_id, "state": state, "mode": "post_message"})
        return _json(
            {
                "authorize_url": f"{cfg.oauth_url}?{query}",
                "state": state,
                "expires_in": cfg.state_max_age,
                "redirect_uri": cfg.redirect_uri,
            }
        )

    @bp.get("/oauth/callback")
    def oauth_callback() -> Response:
        cfg = config()
        args = request.args
        if args.get("error"):
            raise HttpError(
                "access_denied",
                f"amoCRM answered {args['error'][:64]!r}",
                400,
                {"error": [args["error"][:64]]},
            )
        missing = {k: ["required"] for k in ("code", "referer") if not args.get(k)}
        if missing:
            raise HttpError(
                "missing_parameters", "amoCRM's redirect lacks code/referer", 400, missing
            )
        domain = cfg.account_domain(args["referer"])
        if domain is None:
            raise HttpError(
                "invalid_referer",
                "referer is not an amoCRM account domain",
                400,
                {"referer": [f"must end with one of {list(cfg.allowed_domains)}"]},
            )
        tenant_id = read_state(cfg, args["state"]) if args.get("state") else None
        try:
            result = complete_install(ctx, cfg, domain, args["code"], tenant_id)
        except AmoAuthError as exc:
            raise HttpError(
                "code_refused",
                f"amoCRM refused the code: {exc.message}",
                400,
                {"code": [exc.message]},
            ) from None
        except AmoError as exc:
            raise HttpError("amocrm_unavailable", f"amoCRM failed: {exc}", 502) from None
        return _json(result.body(), 201)

    @bp.post("/webhook/<account>/<secret>")
    def webhook(account: str, secret: str) -> Response:
        installation = webhooks.verify_secret(ctx, account, secret)
        data = webhooks.parse(request.mimetype or None, request.get_data(cache=False))
        return _json(webhooks.receive(ctx, installation, data))

    def settings_caller() -> tuple[AmoConfig, Installation]:
        cfg = config()
        token = request.headers.get("X-Auth-Token")
        if token:
            claims = verify_widget_token(cfg, token)
            domain = cfg.account_domain(str(claims.get("iss") or ""))
            installation = ctx.store.get(PLATFORM, domain) if domain else None
            if installation is None or str(claims.get("account_id")) != str(
                installation.settings.get("account_id")
            ):
                raise HttpError("not_installed", "this amoCRM account is not installed", 404)
            return cfg, installation
        tenant_id = admin_tenant(ctx, request)
        installation = ctx.store.get_for_tenant(tenant_id, PLATFORM)
        if installation is None:
            raise HttpError("not_installed", "no amoCRM account is installed for this key", 404)
        return cfg, installation

    def settings_body(installation: Installation) -> dict[str, Any]:
        return {
            **public_settings(installation.settings),
            "status": installation.status,
            "webhook_url": webhook_url(ctx, installation),
        }

    @bp.get("/settings", provide_automatic_options=False)
    def settings_get() -> Response:
        _cfg, installation = settings_caller()
        body = settings_body(installation)
        # a fresh one-time link to the relay's web cabinet each time the page loads
        body["cabinet_url"] = ctx.cabinet_link(installation.tenant_id)
        return _cors(_json(body))

    @bp.put("/settings", provide_automatic_options=False)
    def settings_put() -> Response:
        cfg, installation = settings_caller()
        try:
            new = load_settings(request.get_json(silent=True))
        except ValidationError as exc:
            raise HttpError(
                "validation_error",
                "the settings are not valid: see fields",
                422,
                exc.normalized_messages(),
            ) from None
        try:
            ctx.tenants.load_flows(
                installation.tenant_id, flows_document(new, installation.settings)
            )
        except Exception as exc:  # the relay's own error type, which connectors may not import
            status = getattr(exc, "status", None)
            if not isinstance(status, int) or status >= 500:
                raise
            raise HttpError(
                str(getattr(exc, "code", "invalid_flows")),
                str(getattr(exc, "message", exc)),
                422,
                getattr(exc, "fields", None),
            ) from None
        tokens = TokenManager(ctx.store, TokenEndpoint(cfg), installation.account)
        saved = tokens.save_settings({**installation.settings, **new})
        log.info(
            "amoCRM settings saved", extra={"account": saved.account, "stages": len(new["stages"])}
        )
        return _cors(_json(settings_body(saved)))

    @bp.route("/settings", methods=["OPTIONS"])
    def settings_preflight() -> Response:
        return _cors(Response(status=204))

    @bp.get("/settings/page")
    def settings_page() -> Response:
        return Response(page.HTML, content_type="text/html; charset=utf-8")

    def _cors(resp: Response) -> Response:
        """Let the widget (on the account's own domain) call the settings API."""
        origin = request.headers.get("Origin", "")
        try:
            allowed = AmoConfig.from_mapping(ctx.config).account_domain(origin) is not None
        except NotConfigured:
            allowed = False
        if allowed and origin.startswith("https://"):
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Access-Control-Allow-Headers"] = (
                "Authorization, X-Auth-Token, Content-Type"
            )
            resp.headers["Access-Control-Allow-Methods"] = "GET, PUT, OPTIONS"
            resp.headers["Vary"] = "Origin"
        return resp

    return bp
