"""Replies: the store's inbound messages, newest first, with how each was routed to the store
and what the relay did with it; `?unrouted=1` keeps those tied to none of its messages, and
`?calls=1` the calls customers made to the store's numbers (the gateway reports each as an
inbound of kind "call"). The texts are the subscribers' own: always shown escaped."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from relay.cabinet.blueprint import bp
from relay.cabinet.insight import when
from relay.cabinet.security import login_required
from relay.errors import RelayError
from relay.replies.inbound import inbound_page

PAGE = 50
ROUTING_NAMES = {
    "dedicated_number": _l("to the store's own number"),
    "prefix": _l("by the store's name at the start"),
    "last_sender": _l("to the last message sent to this number"),
    "sandbox": _l("sandbox"),
    "unrouted": _l("not routed"),
}
HANDLED_NAMES = {
    "opt_out": _l("unsubscribed"),
    "opt_in": _l("subscribed again"),
    "help": _l("asked for help"),
    "survey_answer": _l("survey answer"),
    "survey_comment": _l("survey comment"),
    "reply": _l("a reply, passed on to the store"),
    "call": _l("a call"),
    "empty": _l("empty"),
    "invalid_sender": _l("an unusable sender number"),
    "unrouted": _l("not routed"),
}


@bp.get("/replies", endpoint="replies")
@login_required
def replies():  # type: ignore[no-untyped-def]
    unrouted = request.args.get("unrouted") == "1"
    calls = request.args.get("calls") == "1"
    before_raw = request.args.get("before", "")
    if before_raw and not before_raw.isdigit():
        raise RelayError("invalid_filter", "not a page", 400, {"cursor": ["bad"]})
    before = int(before_raw) if before_raw else None
    rows, nxt = inbound_page(g.db, g.tenant.id, PAGE, before, unrouted, "call" if calls else None)
    extra: dict[str, Any] = {"unrouted": "1"} if unrouted else {}
    if calls:
        extra["calls"] = "1"
    return render_template(
        "cabinet/replies.html",
        active="replies",
        rows=rows,
        unrouted=unrouted,
        calls=calls,
        routing_names=ROUTING_NAMES,
        handled_names=HANDLED_NAMES,
        next_url=url_for("cabinet.replies", before=nxt, **extra) if nxt else None,
        prev_url=url_for("cabinet.replies", **extra) if before else None,
        local_time=when,
    )
