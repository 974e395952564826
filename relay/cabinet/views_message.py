"""A single message to one number: a `message.requested` event through the same intake as
POST /v1/events, and the decision shown (sent, deferred until when, blocked and why)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import g, render_template, request
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.mailing_texts import mailing_errors, reason_text
from relay.cabinet.security import login_required, role_required, rt
from relay.cabinet.views_mailings import CATEGORY_NAMES, choices
from relay.errors import RelayError
from relay.intake.intake import submit_event
from relay.tenancy.tenant_phones import tenant_phone

FIELDS = ("phone", "text", "channel", "category", "sender")
MESSAGE_CHANNELS = {"sms": _l("SMS"), "viber": _l("Viber")}


def _page(form: dict[str, str], errors: dict[str, str] | None = None, status: int = 200,
          result: dict[str, Any] | None = None) -> Any:  # fmt: skip
    return (
        render_template(
            "cabinet/message_new.html",
            active="message_new",
            form=form,
            errors=errors or {},
            result=result,
            reason_text=reason_text,
            message_channels=list(MESSAGE_CHANNELS.items()),
            categories=list(CATEGORY_NAMES.items())[::-1],
            senders=choices()["senders"],
        ),
        status,
    )


@bp.get("/messages/new", endpoint="message_new")
@login_required  # a viewer sees the page; sending is a manager's
def message_new():  # type: ignore[no-untyped-def]
    return _page({"channel": "sms", "category": "transactional"})


def _field_errors(exc: RelayError) -> dict[str, str]:
    # the event's own field names: customer.phone, message.text …
    flat: dict[str, Any] = {}
    for key, value in (exc.fields or {}).items():
        if isinstance(value, dict) and key in ("customer", "message"):
            flat.update(value)
        else:
            flat[str(key)] = value
    return mailing_errors(RelayError(exc.code, exc.message, exc.status, flat), FIELDS)


@bp.post("/messages/new")
@role_required("manager")
def message_send():  # type: ignore[no-untyped-def]
    form = {k: v for k, v in request.form.to_dict().items() if k != "csrf_token"}
    runtime = rt()
    now = runtime.now()
    channel = form.get("channel") or ""
    channel = channel if channel in MESSAGE_CHANNELS else "sms"
    category = form.get("category") or ""
    category = category if category in CATEGORY_NAMES else "transactional"
    message: dict[str, Any] = {
        "text": (form.get("text") or "").strip(),
        "channel": channel,
        "category": category,
    }
    if form.get("sender"):
        message["sender"] = form["sender"]
    try:
        phone = tenant_phone(g.tenant, form.get("phone"), "phone")
        if not message["text"]:
            raise RelayError("text_required", "text: required", 422, {"text": ["required"]})
        wire = {
            "event_id": f"cabinet-{secrets.token_hex(8)}",
            "type": "message.requested",
            "occurred_at": now.isoformat(),
            "source": {"platform": "cabinet", "account": f"user:{g.user.id}"},
            "customer": {"phone": phone},
            "message": message,
        }
        result = submit_event(g.db, g.tenant, wire, now)
    except RelayError as exc:
        g.db.rollback()
        return _page(form, _field_errors(exc), exc.status)
    g.db.commit()  # the session's outbox queues the messages after the commit
    decisions = result.body.get("messages") or []
    return _page(
        {"channel": channel, "category": category, "sender": form.get("sender", "")},
        result={"phone": phone, "text": message["text"], "messages": decisions},
    )
