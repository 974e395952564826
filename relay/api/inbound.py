"""Inbound messages: replies routed to a tenant (`messages:read`), those no tenant could be
found for (operator), and the sandbox reply a tenant can simulate (`events:write`)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from relay.api.http import (
    PageQuerySchema,
    blueprint,
    db,
    keyset_page,
    load_body,
    load_query,
    operator_only,
    runtime,
    tenant_phone,
    tenant_scope,
)
from relay.api.schemas.inbound import InboundSchema, SandboxInboundIn, SandboxInboundOut
from relay.api.spec import documented
from relay.providers.base import Inbound
from relay.replies.inbound import inbound_view, store_inbound
from relay.storage.models import InboundMessage

bp = blueprint("inbound", __name__)
TAGS = ("replies",)


def _inbound(row: InboundMessage) -> dict[str, Any]:
    return inbound_view(row)


@bp.get("/inbound")
@documented(
    "Replies and other inbound messages routed to this tenant, newest first",
    tags=TAGS,
    query=PageQuerySchema,
    page=InboundSchema,
)
@tenant_scope("messages:read")
def list_inbound() -> Response:
    """Each with what the relay did with it (`handled_as`: opt_out, opt_in, survey_answer …)."""
    page = load_query(PageQuerySchema())
    stmt = select(InboundMessage).where(InboundMessage.tenant_id == g.tenant.id)
    return keyset_page(db(), stmt, InboundMessage.id, page, _inbound, descending=True, kind=int)


@bp.get("/inbound/unrouted")
@documented(
    "Inbound messages no tenant could be found for (operator), newest first",
    tags=TAGS,
    query=PageQuerySchema,
    page=InboundSchema,
)
@operator_only
def list_unrouted() -> Response:
    """Kept and visible to the operator."""
    page = load_query(PageQuerySchema())
    stmt = select(InboundMessage).where(InboundMessage.tenant_id.is_(None))
    return keyset_page(db(), stmt, InboundMessage.id, page, _inbound, descending=True, kind=int)


@bp.post("/sandbox/inbound")
@documented(
    "Simulate a subscriber's reply through the sandbox gateway (this tenant only)",
    tags=TAGS,
    body=SandboxInboundIn,
    example={"from": "+375291234567", "text": "STOP"},
    response=SandboxInboundOut,
    status=202,
)
@tenant_scope("events:write")
def sandbox_inbound() -> ResponseReturnValue:
    """{"from", "text", "to"?}: stored and handled exactly like a gateway's inbound message,
    but always for the calling tenant, so nobody can reply on another tenant's behalf."""
    body = load_body(SandboxInboundIn())
    sender = tenant_phone(body["from_"], "from")
    session = db()
    [row] = store_inbound(
        session,
        "sandbox",
        [
            Inbound(
                sender=sender,
                recipient=str(body["to"] or "sandbox"),
                text=body["text"],
                provider_ref="sbx-in-" + secrets.token_hex(8),
            )
        ],
        runtime().now(),
    )
    row.tenant_id = g.tenant.id
    row.routing = "sandbox"
    session.commit()
    return jsonify({"id": row.id}), 202
