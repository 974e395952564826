"""Messages: one message with its history, the message log (search, export) and preview.

Scope `messages:read` (`admin` passes too); only the key's own tenant is ever queried.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify

from relay.api.http import (
    actor,
    blueprint,
    db,
    fail,
    is_operator,
    load_body,
    load_query,
    operator_or_scope,
    page_answer,
    query_faults,
    query_phone,
    runtime,
    tenant_scope,
)
from relay.api.reports import export_response
from relay.api.schemas.messages import (
    ExportQuery,
    MessageDetailSchema,
    MessageQuery,
    MessageRow,
    PreviewIn,
    PreviewOut,
    ResolveUnknownIn,
    ResolveUnknownOut,
)
from relay.api.spec import documented
from relay.content.preview import preview_message
from relay.delivery.resolve import resolve_unknown
from relay.messages.messages import message_detail
from relay.reporting.message_log import LogFilter, build_filter, fetch_page, row_dict
from relay.storage.models import Message

bp = blueprint("messages", __name__)
TAGS = ("messages",)


def _filter(args: dict[str, Any]) -> LogFilter:
    tenant = g.tenant
    phone = query_phone(args.get("phone"))
    with query_faults():
        return build_filter(
            db(), tenant.id, ZoneInfo(tenant.timezone), args, phone, runtime().now()
        )


@bp.get("/messages/<message_id>")
@documented("One message with its status history", tags=TAGS, response=MessageDetailSchema)
@tenant_scope("messages:read")
def get_message(message_id: str) -> Response:
    """Status, reason, not_before, segments, encoding, cost, gateway and every status change."""
    msg = db().get(Message, message_id)
    if msg is None or msg.tenant_id != g.tenant.id:
        fail("message_not_found", f"no message {message_id!r}", 404)
    return jsonify(message_detail(db(), msg))


@bp.post("/messages/preview")
@documented(
    "Render a text or template: encoding, segments, parts, cost; sends nothing",
    tags=TAGS,
    body=PreviewIn,
    example={
        "text": "{{ customer.name }}, заказ {{ order.number }} собран",
        "data": {"customer": {"name": "Анна"}, "order": {"number": "727"}},
        "phone": "+375291234567",
    },
    response=PreviewOut,
    errors=(404,),
)
@tenant_scope("messages:read")
def preview() -> Response:
    """A saved `template` that does not exist is 404 `template_not_found`; a text that does
    not render is 422 `template_error`."""
    body = load_body(PreviewIn())
    body = {k: v for k, v in body.items() if v is not None}
    return jsonify(preview_message(db(), g.tenant, body))


@bp.get("/messages")
@documented("Search the message log", tags=TAGS, query=MessageQuery, page=MessageRow)
@tenant_scope("messages:read")
def list_messages() -> Response:
    """Newest first, with a stable cursor. Archived rows (`archived: true`) are included when
    `from` reaches back past 12 months or is absent; the `X-Includes-Archive` header says so."""
    args = load_query(MessageQuery())
    f = _filter(args)
    with query_faults():  # a cursor this API did not issue
        rows, nxt = fetch_page(db(), f, args["limit"], args["cursor"])
    resp = page_answer(rows, nxt, row_dict, encoded=True)
    resp.headers["X-Includes-Archive"] = "true" if f.include_archive else "false"
    return resp


@bp.get("/messages/export")
@documented(
    "Export the message log (csv or xlsx)", tags=TAGS, query=ExportQuery, produces="text/csv"
)
@tenant_scope("messages:read")
def export_messages() -> Response:
    """Every message matching the filters, streamed, oldest first."""
    args = load_query(ExportQuery())
    f = _filter(args)
    zone = ZoneInfo(g.tenant.timezone)
    return export_response(runtime(), f, zone, args["format"], "messages", oldest_first=True)


@bp.post("/messages/resolve-unknown")
@documented(
    "Settle `unknown` messages: resend or fail them (an operator's decision, audited)",
    tags=TAGS,
    body=ResolveUnknownIn,
    example={"action": "fail", "ids": ["0123456789abcdef0123456789abcdef"]},
    response=ResolveUnknownOut,
)
@operator_or_scope("admin")
def resolve_unknown_messages() -> Response:
    """`unknown`: the gateway may have the message (its send got no answer). Nothing resends
    one by itself; `resend` queues it again (it may then arrive twice), `fail` ends it. A tenant
    key acts on its own tenant's messages; the operator token on any, and then must name ids, a
    `provider` or `before`. Who decided goes to each message's history and the audit log."""
    body = load_body(ResolveUnknownIn())
    tenant_id = None if is_operator() else g.tenant.id
    if tenant_id is None and not (body["ids"] or body["provider"] or body["before"]):
        fail("selection_required", "name the messages: ids, provider or before", 422)
    changed = resolve_unknown(
        db(),
        action=body["action"],
        actor=actor(),
        now=runtime().now(),
        tenant_id=tenant_id,
        ids=body["ids"],
        provider=body["provider"],
        before=body["before"],
    )
    db().commit()
    return jsonify({"action": body["action"], "count": len(changed), "ids": sorted(changed)})
