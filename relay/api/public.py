"""The public tenant API: events, messages, policy explain, preview, stop-list.

See docs/architecture.md, 'API'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify, request

from relay.api.auth import require_scope
from relay.api.common import db, json_object, runtime
from relay.compliance.stoplist import stop_entries
from relay.content.preview import preview_message
from relay.decisions.decide_batch import Planned, decide_for
from relay.errors import RelayError
from relay.intake.intake import submit_event
from relay.messages.messages import iso, message_detail
from relay.storage.models import Message
from relay.tenancy.tenant_phones import tenant_phone as normalise_for_tenant
from shared.events import CATEGORIES, CHANNELS

bp = Blueprint("public", __name__, url_prefix="/v1")


def tenant_phone(raw: Any, field: str = "phone") -> str:
    """Normalise a phone for the request's tenant, or raise a 422 RelayError."""
    return normalise_for_tenant(g.tenant, raw, field)


@bp.post("/events")
@require_scope("events:write")
def post_event():  # type: ignore[no-untyped-def]
    """Accept an event: 202 with the decisions, or 200 for a duplicate."""
    rt = runtime()
    session = db()
    result = submit_event(session, g.tenant, json_object(), rt.now())
    session.commit()  # outbox: rows first, queue second
    return jsonify(result.body), result.status


@bp.get("/messages/<message_id>")
@require_scope("messages:read")
def get_message(message_id: str):  # type: ignore[no-untyped-def]
    """One message with its status history."""
    msg = db().get(Message, message_id)
    if msg is None or msg.tenant_id != g.tenant.id:
        raise RelayError("message_not_found", f"no message {message_id!r}", 404)
    return jsonify(message_detail(db(), msg))


def _parse_at(value: Any, now: datetime) -> datetime:
    if value in (None, ""):
        return now
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise RelayError(
            "invalid_time",
            f"'at' must be ISO 8601, got {value!r}",
            422,
            {"at": ["ISO 8601 with an offset"]},
        ) from exc
    if at.tzinfo is None:
        raise RelayError("invalid_time", "'at' needs a UTC offset", 422, {"at": ["add an offset"]})
    return at


@bp.post("/policy/explain")
@require_scope("messages:read")
def explain():  # type: ignore[no-untyped-def]
    """What the policy would decide for this number now (or at `at`); sends nothing."""
    body = json_object()
    phone = tenant_phone(body.get("phone"))
    category = body.get("category", "transactional")
    channel = body.get("channel", "sms")
    if category not in CATEGORIES:
        raise RelayError(
            "invalid_category",
            f"category must be one of {list(CATEGORIES)}",
            422,
            {"category": [f"one of {list(CATEGORIES)}"]},
        )
    if channel not in CHANNELS:
        raise RelayError(
            "invalid_channel",
            f"channel must be one of {list(CHANNELS)}",
            422,
            {"channel": [f"one of {list(CHANNELS)}"]},
        )
    at = _parse_at(body.get("at"), runtime().now())
    [outcome] = decide_for(
        db(),
        g.tenant,
        [
            Planned(
                phone=phone,
                category=category,
                channel=channel,
                text=str(body.get("text") or "STOP"),
                sender=body.get("sender"),
                urgent=bool(body.get("urgent")),
                timezone=body.get("timezone"),
                region=body.get("region"),
            )
        ],
        at,
    )
    out = outcome.decision.to_dict()
    out["phone"] = phone
    return jsonify(out)


@bp.post("/messages/preview")
@require_scope("messages:read")
def preview():  # type: ignore[no-untyped-def]
    """Rendered text, encoding, segments and estimated cost; sends nothing."""
    return jsonify(preview_message(db(), g.tenant, json_object()))


@bp.get("/stoplist")
@require_scope("messages:read")
def get_stoplist():  # type: ignore[no-untyped-def]
    """Stop-list entries for one number."""
    phone = tenant_phone(request.args.get("phone"))
    entries = stop_entries(db(), g.tenant.id, phone)
    return jsonify(
        {
            "entries": [
                {
                    "phone": e.phone,
                    "channel": e.channel,
                    "source": e.source,
                    "note": e.note,
                    "created_at": iso(e.created_at),
                }
                for e in entries
            ]
        }
    )
