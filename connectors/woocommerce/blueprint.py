"""HTTP endpoints under /connectors/woocommerce: the webhook receiver and store set-up.

`POST /webhook` — WooCommerce delivers every order topic of every installed store here; the
store is found by `X-WC-Webhook-Source` and its secret verifies `X-WC-Webhook-Signature` over
the raw body. The handler only verifies, records the delivery in the inbox (keyed by the
delivery so a repeat is recognised) and enqueues the job; it answers 202 at once, because
WooCommerce does not retry and disables a webhook after a few failed deliveries.

Bad input never raises: every refusal is `{"error": {"code", "message", "fields"}}` with a 4xx.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from connectors.woocommerce import jobs, signature
from connectors.woocommerce.installations import InstallError, describe, install
from connectors.woocommerce.mapping import ORDER_TOPICS, PLATFORM
from connectors.woocommerce.stores import normalise_store_url
from shared.connector import ConnectorContext

log = logging.getLogger("connectors.woocommerce.webhook")
MAX_BODY_BYTES = 1024 * 1024  # an order with hundreds of lines is well below this
HEADERS = {
    "topic": "X-WC-Webhook-Topic",
    "source": "X-WC-Webhook-Source",
    "webhook_id": "X-WC-Webhook-ID",
    "delivery_id": "X-WC-Webhook-Delivery-ID",
    "resource": "X-WC-Webhook-Resource",
    "event": "X-WC-Webhook-Event",
}


def error(code: str, message: str, status: int, fields: dict[str, Any] | None = None) -> Response:
    """The relay's JSON error shape."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def _body_limit() -> int:
    app_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(MAX_BODY_BYTES, app_limit) if app_limit else MAX_BODY_BYTES


def _read_body() -> bytes | Response:
    limit = _body_limit()
    if request.content_length is not None and request.content_length > limit:
        return error("payload_too_large", f"the body is larger than {limit} bytes", 413)
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return error("payload_too_large", f"the body is larger than {limit} bytes", 413)
    if len(body) > limit:  # chunked bodies have no Content-Length to check up front
        return error("payload_too_large", f"the body is larger than {limit} bytes", 413)
    return body


def _dedupe_key(account: str, headers: dict[str, str], body: bytes) -> str:
    # The Delivery-ID is wp_hash(webhook id . time()): unique per webhook per *second* only,
    # so two orders updated in the same second share it. The body's hash tells them apart,
    # while a true repeat (same delivery, same bytes) still collapses into one record.
    digest = hashlib.sha256(body).hexdigest()[:32]
    key = f"{account}|{headers.get('webhook_id', '')}|{headers.get('delivery_id', '')}|{digest}"
    if len(key) > 255:
        key = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


def receive(ctx: ConnectorContext) -> Response:
    """Verify → record → enqueue → 202 (or the ping's 200, or a JSON error)."""
    body = _read_body()
    if isinstance(body, Response):
        return body
    headers = {
        name: (request.headers.get(header) or "").strip() for name, header in HEADERS.items()
    }
    given = request.headers.get(signature.SIGNATURE_HEADER)
    if signature.is_ping(body, bool(given), headers["topic"]):
        return jsonify({"status": "ok", "ping": True})  # exactly 200: the store saves the hook
    if not given:
        return error(
            "missing_signature",
            "X-WC-Webhook-Signature is required",
            401,
            {signature.SIGNATURE_HEADER: ["missing"]},
        )
    missing = [HEADERS[n] for n in ("source", "topic") if not headers[n]]
    if missing:
        return error(
            "missing_header",
            "WooCommerce webhook headers are missing",
            400,
            {name: ["missing"] for name in missing},
        )
    try:
        account = normalise_store_url(headers["source"])
    except ValueError as exc:
        return error("invalid_source", str(exc), 400, {HEADERS["source"]: [str(exc)]})
    installation = ctx.store.get(PLATFORM, account)
    if installation is None:
        return error(
            "unknown_store",
            f"no installation for {account}",
            404,
            {HEADERS["source"]: ["not installed"]},
        )
    if not signature.verify(body, given, installation.secrets.get("webhook_secret", "")):
        return error(
            "invalid_signature",
            "the signature does not match the body",
            401,
            {signature.SIGNATURE_HEADER: ["does not match"]},
        )
    if installation.status not in jobs.ACCEPTING:
        return error("installation_disabled", f"the installation is {installation.status}", 403)
    topic = headers["topic"]
    if topic not in ORDER_TOPICS:
        return jsonify({"status": "ignored", "reason": f"topic {topic!r} is not handled"})
    try:
        order = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return error("malformed_json", "the body is not JSON", 400)
    if not isinstance(order, dict) or "id" not in order:
        return error(
            "invalid_body",
            "the body must be a JSON object with an order id",
            400,
            {"id": ["required"]},
        )
    payload = {
        "topic": topic,
        "body": order,
        "delivery": {k: headers[k] for k in ("webhook_id", "delivery_id", "resource")},
    }
    record = ctx.inbox.record(
        PLATFORM, account, topic, payload, _dedupe_key(account, headers, body)
    )
    if record is None:
        return jsonify({"status": "duplicate"})
    try:
        ctx.enqueue(jobs.PROCESS_JOB, record.id)
    except Exception:  # the queue is down: do the work now rather than lose the delivery
        log.exception("enqueue failed; processing inline", extra={"inbox_id": record.id})
        try:
            jobs.process(ctx, record.id)
        except Exception:
            log.exception("inline processing failed", extra={"inbox_id": record.id})
    response = jsonify({"status": "accepted", "inbox_id": record.id})
    response.status_code = 202
    return response


def _tenant(ctx: ConnectorContext) -> str | Response:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return error("unauthorized", "send Authorization: Bearer <relay API key>", 401)
    tenant_id = ctx.authenticate(key.strip())
    if tenant_id is None:
        return error("forbidden", "the key is unknown or has no admin scope", 403)
    return tenant_id


def create_blueprint(ctx: ConnectorContext) -> Blueprint:
    """The blueprint the relay mounts at /connectors/woocommerce."""
    bp = Blueprint("woocommerce", __name__)

    @bp.post("/webhook")
    def webhook() -> Response:
        try:
            return receive(ctx)
        except Exception:  # never a 500: WooCommerce would count it against the webhook
            log.exception("webhook failed")
            return error("temporarily_unavailable", "the delivery could not be recorded", 503)

    @bp.post("/installations")
    def create_installation() -> Response:
        tenant_id = _tenant(ctx)
        if isinstance(tenant_id, Response):
            return tenant_id
        body = request.get_json(silent=True)
        try:
            result = install(ctx, tenant_id, body)
        except InstallError as exc:
            return error(exc.code, exc.message, exc.status, exc.fields)
        shown = describe(ctx, result.installation)
        if result.generated_secret:
            shown["webhook_secret"] = result.generated_secret  # shown once, like an API key
        response = jsonify(shown)
        response.status_code = 201 if result.created else 200
        return response

    @bp.get("/installations")
    def list_installations() -> Response:
        tenant_id = _tenant(ctx)
        if isinstance(tenant_id, Response):
            return tenant_id
        found = ctx.store.get_for_tenant(tenant_id, PLATFORM)
        return jsonify({"installations": [describe(ctx, found)] if found else []})

    return bp
