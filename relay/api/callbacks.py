"""Gateway callbacks: delivery receipts and inbound messages.

Authenticated by the per-provider token in the path (compared in constant time); a wrong
token is 403 and changes nothing. Handlers record and answer fast.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Response, request

from relay.api.http import blueprint, db, fail, runtime
from relay.api.spec import DocOptions, documented
from relay.errors import RelayError
from relay.providers.base import Provider
from relay.receipts.receipts import apply_receipt
from relay.replies.inbound import store_inbound

bp = blueprint("callbacks", __name__, url_prefix="/callbacks")

# what the gateways post: their own fields, as a query string, a form or JSON
GATEWAY_BODY = {
    "type": "object",
    "additionalProperties": True,
    "description": "the gateway's own fields (query string, form or JSON), read by its adapter",
}
GATEWAY_DOC: DocOptions = {
    "tags": ("callbacks",),
    "body": GATEWAY_BODY,
    "body_type": "application/x-www-form-urlencoded",
    "body_required": False,
    "produces": "text/plain",
    "errors": (400, 403),
    "not_found": False,
}
log = logging.getLogger("relay.callbacks")


def _payload() -> dict[str, Any]:
    """Query, form and JSON fields merged: gateways use each of them."""
    data: dict[str, Any] = dict(request.args.items())
    # repeated form keys (a bare `data[]` list) keep every value; single ones stay scalars
    for key, values in request.form.to_dict(flat=False).items():
        data[key] = values[0] if len(values) == 1 else values
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            data.update(body)
        elif isinstance(body, list):
            data["items"] = body
    return data


def _provider(name: str, token: str) -> Provider:
    found = runtime().providers.by_name(db(), name)
    if found is None or not hmac.compare_digest(found[0].callback_token.encode(), token.encode()):
        fail("invalid_callback_token", "unknown provider or wrong token", 403)
    return found[1]


@bp.route("/<name>/<token>/dlr", methods=["GET", "POST"])
@documented("Delivery reports from a gateway", **GATEWAY_DOC)
def receipt(name: str, token: str) -> Response:
    """Delivery reports."""
    provider = _provider(name, token)
    session = db()
    try:
        receipts = provider.parse_receipts(_payload(), dict(request.headers))
    except PermissionError as exc:  # a gateway signature that does not verify
        raise RelayError("invalid_signature", str(exc), 403) from exc
    except ValueError as exc:
        raise RelayError("invalid_receipt", str(exc), 400) from exc
    now = runtime().now()
    for rec in receipts:
        apply_receipt(session, name, rec, now)
    session.commit()
    body, status, headers = provider.callback_response("dlr")
    return Response(body, status=status, headers=headers)


@bp.route("/<name>/<token>/inbound", methods=["GET", "POST"])
@documented("Inbound messages from a gateway", **GATEWAY_DOC)
def inbound(name: str, token: str) -> Response:
    """Inbound messages: stored once per gateway retry (deduplicated)."""
    provider = _provider(name, token)
    session = db()
    try:
        items = provider.parse_inbound(_payload(), dict(request.headers))
    except PermissionError as exc:
        raise RelayError("invalid_signature", str(exc), 403) from exc
    except ValueError as exc:
        raise RelayError("invalid_inbound", str(exc), 400) from exc
    store_inbound(session, name, items, runtime().now())
    session.commit()
    body, status, headers = provider.callback_response("inbound")
    return Response(body, status=status, headers=headers)
