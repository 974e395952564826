"""Explain: a number and a time → what the policy decides, with every reason — the use case
of POST /v1/policy/explain (relay.decisions.explain). Sends nothing, stores nothing."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import g, render_template, request
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.insight import when
from relay.cabinet.security import login_required, rt
from relay.cabinet.texts import error_text
from relay.cabinet.views_detail import CHANNEL_NAMES, TRAFFIC_NAMES
from relay.decisions.explain import explain_decision
from relay.errors import RelayError
from relay.reporting.message_log import parse_time
from relay.tenancy.tenant_phones import tenant_phone
from shared.event_model import CATEGORIES, CHANNELS

DECISION_NAMES = {
    "send": _l("would be sent now"),
    "defer": _l("would wait"),
    "block": _l("would be blocked"),
}
DECISION_KIND = {"send": "ok", "defer": "warn", "block": "danger"}
FIELD_TEXTS = {
    "at": _l("Enter the date and time, for example 2026-01-31 21:30."),
    "category": _l("Choose a kind of message from the list."),
    "channel": _l("Choose a channel from the list."),
}


@bp.get("/explain", endpoint="explain")
@login_required
def explain():  # type: ignore[no-untyped-def]
    tenant = g.tenant
    zone = ZoneInfo(tenant.timezone)
    args = {k: request.args.get(k, "").strip()[:200] for k in ("phone", "at", "category",
                                                                 "channel", "text")}  # fmt: skip
    args["category"] = args["category"] or "marketing"
    args["channel"] = args["channel"] or "sms"
    errors: dict[str, str] = {}
    decision: dict[str, Any] | None = None
    if args["category"] not in CATEGORIES:
        errors["category"] = str(FIELD_TEXTS["category"])
    if args["channel"] not in CHANNELS:
        errors["channel"] = str(FIELD_TEXTS["channel"])
    if args["phone"] and not errors:
        try:
            phone = tenant_phone(tenant, args["phone"], "phone")
        except RelayError as exc:
            errors["phone"] = error_text(exc)
        try:
            at = parse_time(args["at"], zone, "at") or rt().now()
        except RelayError:
            errors["at"] = str(FIELD_TEXTS["at"])
        if not errors:
            decision = explain_decision(
                g.db, tenant, phone, at, category=args["category"], channel=args["channel"],
                text=args["text"] or None,
            )  # fmt: skip
            decision["at"] = at.isoformat()
    return (
        render_template(
            "cabinet/explain.html",
            active="explain",
            args=args,
            errors=errors,
            decision=decision,
            decision_names=DECISION_NAMES,
            decision_kind=DECISION_KIND,
            category_choices=[(c, TRAFFIC_NAMES[c]) for c in CATEGORIES],
            channel_choices=[(c, CHANNEL_NAMES[c]) for c in CHANNELS],
            local_time=when,
        ),
        400 if errors else 200,
    )
