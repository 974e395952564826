"""Gateway callbacks: delivery receipts and inbound messages.

Authenticated by the per-provider token in the path (compared in constant time); a wrong
token is 403 and changes nothing. Handlers record and answer fast.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError

from relay.api.common import db, runtime
from relay.providers.base import Provider
from relay.services.errors import RelayError
from relay.services.receipts import apply_receipt
from relay.storage.models import InboundMessage

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")
log = logging.getLogger("relay.callbacks")


def _payload() -> dict:
    """Query, form and JSON fields merged: gateways use each of them."""
    data: dict = dict(request.args.items())
    data.update(request.form.items())
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
        raise RelayError("invalid_callback_token", "unknown provider or wrong token", 403)
    return found[1]


@bp.route("/<name>/<token>/dlr", methods=["GET", "POST"])
def receipt(name: str, token: str) -> Response:
    """Delivery reports."""
    provider = _provider(name, token)
    session = db()
    try:
        receipts = provider.parse_receipts(_payload(), dict(request.headers))
    except ValueError as exc:
        raise RelayError("invalid_receipt", str(exc), 400) from exc
    now = runtime().now()
    for rec in receipts:
        apply_receipt(session, name, rec, now)
    session.commit()
    body, status, headers = provider.callback_response("dlr")
    return Response(body, status=status, headers=headers)


@bp.route("/<name>/<token>/inbound", methods=["GET", "POST"])
def inbound(name: str, token: str) -> Response:
    """Inbound messages: stored once per gateway retry (deduplicated)."""
    provider = _provider(name, token)
    session = db()
    try:
        items = provider.parse_inbound(_payload(), dict(request.headers))
    except ValueError as exc:
        raise RelayError("invalid_inbound", str(exc), 400) from exc
    now = runtime().now()
    for item in items:
        key = (
            item.provider_ref
            or hashlib.sha256(
                json.dumps([item.sender, item.recipient, item.text, str(item.received_at)]).encode()
            ).hexdigest()
        )
        row = InboundMessage(
            provider=name,
            dedupe_key=key[:64],
            sender=item.sender,
            recipient=item.recipient,
            text=item.text,
            kind="call" if item.text.strip() == "[CALL]" else "text",
            raw=dict(item.raw),
            received_at=item.received_at or now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            log.info("duplicate inbound", extra={"provider": name})
    session.commit()
    body, status, headers = provider.callback_response("inbound")
    return Response(body, status=status, headers=headers)
