"""POST /v1/events: the way stores and CRMs hand the relay what happened.

The contract is in docs/architecture.md, 'API'.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from relay.api.http import blueprint, json_object, tenant_scope
from relay.api.schemas.events import COMPONENTS, EVENT_BODY, EXAMPLES, EventAcceptedSchema
from relay.api.spec import documented
from relay.intake.group_commit import GroupCommit
from relay.intake.spool import admit
from relay.runtime import Runtime

bp = blueprint("events", __name__)
EVENTS_PATH = "/v1/events"
EXTENSION = "relay.intake.group_commit"


def install(app: Flask, rt: Runtime) -> GroupCommit:
    """Events arriving together in this process share one transaction
    (relay/intake/group_commit.py)."""
    group = GroupCommit(rt.session, rt.now)
    app.extensions[EXTENSION] = group

    def _arriving() -> None:
        # first of all before-request steps: the group's leader may wait for this request
        # while it passes the rate limit, the body checks and authentication
        if request.method == "POST" and request.path == EVENTS_PATH:
            group.arriving()
            g.intake_arriving = True

    def _gone(_exc: BaseException | None) -> None:
        if g.pop("intake_arriving", False):  # refused or invalid before it submitted
            group.left()

    app.before_request_funcs.setdefault(None, []).insert(0, _arriving)
    app.teardown_request(_gone)
    return group


def _group() -> GroupCommit:
    return cast(GroupCommit, current_app.extensions[EXTENSION])


@bp.post("/events")
@documented(
    "Accept an event: 202 with one decision per message (or spooled while the database is "
    "down), 200 for a repeated event_id",
    tags=("events",),
    body=EVENT_BODY,
    example=EXAMPLES["order.status_changed"],
    response=EventAcceptedSchema,
    status=(202, 200),
    errors=(409, 503),
    components=COMPONENTS,
)
@tenant_scope("events:write")
def post_event() -> ResponseReturnValue:
    """Validated against the wire schema, deduplicated on event_id (a repeat with another body
    is 409 `event_id_conflict`), decided by the policy; messages are queued after the commit.

    While the database is unreachable, an event from a key the relay confirmed recently is
    written to the intake spool and answered 202 `{"status": "accepted", "spooled": true,
    "event_id"}` (no decisions yet: it is decided when replayed); otherwise 503 with
    Retry-After (relay/api/spool_http.py)."""
    admit()  # authenticated: it may wait in the spool if the database fails below
    wire = json_object()
    # committed with the events that arrived with it; the outbox queues the messages after it
    result = _group().submit(g.tenant, wire, counted=g.pop("intake_arriving", False))
    return jsonify(result.body), result.status
