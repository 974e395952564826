"""POST /v1/events: the way stores and CRMs hand the relay what happened.

The contract is in docs/architecture.md, 'API'.
"""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import blueprint, db, json_object, runtime, tenant_scope
from relay.api.schemas.events import COMPONENTS, EVENT_BODY, EXAMPLES, EventAcceptedSchema
from relay.api.spec import documented
from relay.intake.intake import submit_event
from relay.intake.spool import admit

bp = blueprint("events", __name__)


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
    rt = runtime()
    session = db()
    result = submit_event(session, g.tenant, json_object(), rt.now())
    session.commit()  # the session's outbox queues the messages after the commit
    return jsonify(result.body), result.status
