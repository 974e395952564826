"""Replies: inbound messages, NPS surveys and their reports, tenants' dedicated numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from relay.api.auth import require_operator, require_scope
from relay.api.common import db, json_object, runtime
from relay.api.public import tenant_phone
from relay.api.spec import documented
from relay.compliance.audit import audit
from relay.errors import RelayError
from relay.messages.messages import iso
from relay.replies.surveys import survey_report
from relay.storage.models import InboundMessage, InboundNumber, Survey, Tenant

bp = Blueprint("replies", __name__, url_prefix="/v1")


def _inbound(row: InboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "from": row.sender,
        "to": row.recipient,
        "text": row.text,
        "kind": row.kind,
        "provider": row.provider,
        "routing": row.routing,
        "handled_as": row.handled_as,
        "message_id": row.message_id,
        "detail": row.detail,
        "received_at": iso(row.received_at),
    }


def _page() -> tuple[int, int]:
    try:
        limit = min(500, max(1, int(request.args.get("limit", 100))))
        before = int(request.args.get("before_id", 0))
    except ValueError as exc:
        raise RelayError("invalid_query", "limit and before_id are whole numbers", 422) from exc
    return limit, before


@bp.get("/inbound")
@require_scope("messages:read")
@documented("Replies and other inbound messages routed to this tenant", tags=("replies",))
def list_inbound():  # type: ignore[no-untyped-def]
    """Newest first; page with `before_id`."""
    limit, before = _page()
    stmt = select(InboundMessage).where(InboundMessage.tenant_id == g.tenant.id)
    if before:
        stmt = stmt.where(InboundMessage.id < before)
    rows = db().scalars(stmt.order_by(InboundMessage.id.desc()).limit(limit)).all()
    return jsonify(
        {
            "inbound": [_inbound(r) for r in rows],
            "next_before_id": rows[-1].id if len(rows) == limit else None,
        }
    )


@bp.get("/inbound/unrouted")
@require_operator
@documented("Inbound messages no tenant could be found for (operator)", tags=("replies",))
def list_unrouted():  # type: ignore[no-untyped-def]
    """Kept and visible to the operator."""
    limit, before = _page()
    stmt = select(InboundMessage).where(InboundMessage.tenant_id.is_(None))
    if before:
        stmt = stmt.where(InboundMessage.id < before)
    rows = db().scalars(stmt.order_by(InboundMessage.id.desc()).limit(limit)).all()
    return jsonify({"inbound": [_inbound(r) for r in rows]})


@bp.post("/numbers")
@require_operator
@documented(
    "Assign a dedicated number or short code to a tenant (operator)", tags=("replies",), status=201
)
def add_number():  # type: ignore[no-untyped-def]
    """Replies to a dedicated number always go to its tenant."""
    body = json_object()
    number, tenant_id = str(body.get("number") or "").strip(), body.get("tenant_id")
    if not number or len(number) > 32:
        raise RelayError(
            "invalid_number", "number is required (≤ 32 characters)", 422, {"number": ["required"]}
        )
    if db().get(Tenant, str(tenant_id)) is None:
        raise RelayError("tenant_not_found", f"no tenant {tenant_id!r}", 404)
    session = db()
    session.add(InboundNumber(tenant_id=tenant_id, number=number))
    audit(
        session,
        tenant_id=tenant_id,
        actor="operator",
        action="number.add",
        target_type="number",
        target_id=number,
        after={"number": number},
        at=runtime().now(),
    )
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise RelayError("number_taken", f"{number} already belongs to a tenant", 409) from exc
    return jsonify({"number": number, "tenant_id": tenant_id}), 201


@bp.post("/sandbox/inbound")
@require_scope("events:write")
@documented(
    "Simulate a subscriber's reply through the sandbox gateway (this tenant only)",
    tags=("replies",),
    status=202,
)
def sandbox_inbound():  # type: ignore[no-untyped-def]
    """{"from", "text", "to"?}: stored and handled exactly like a gateway's inbound message,
    but always for the calling tenant, so nobody can reply on another tenant's behalf."""
    import secrets

    from relay.providers.base import Inbound
    from relay.replies.inbound import store_inbound

    body = json_object()
    text = body.get("text")
    if not isinstance(text, str) or len(text) > 2000:
        raise RelayError(
            "invalid_text",
            "text must be a string of at most 2000 characters",
            422,
            {"text": ["string, ≤ 2000 characters"]},
        )
    sender = tenant_phone(body.get("from"), "from")
    session = db()
    [row] = store_inbound(
        session,
        "sandbox",
        [
            Inbound(
                sender=sender,
                recipient=str(body.get("to") or "sandbox"),
                text=text,
                provider_ref="sbx-in-" + secrets.token_hex(8),
            )
        ],
        runtime().now(),
    )
    row.tenant_id = g.tenant.id
    row.routing = "sandbox"
    session.commit()
    return jsonify({"id": row.id}), 202


@bp.post("/surveys")
@require_scope("admin")
@documented(
    'Create an NPS survey (a flow sends it with "survey": <name>)', tags=("surveys",), status=201
)
def create_survey():  # type: ignore[no-untyped-def]
    """name, window_hours (default 72), followup_text (asked of 0–6), thanks_text."""
    body = json_object()
    name = str(body.get("name") or "").strip()
    window = body.get("window_hours", 72)
    if not name or len(name) > 100:
        raise RelayError(
            "invalid_name", "name is required (≤ 100 characters)", 422, {"name": ["required"]}
        )
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 24 * 31:
        raise RelayError(
            "invalid_window", "window_hours must be 1..744", 422, {"window_hours": ["1..744"]}
        )
    session = db()
    survey = Survey(
        tenant_id=g.tenant.id,
        name=name,
        window_hours=window,
        followup_text=body.get("followup_text"),
        thanks_text=body.get("thanks_text"),
    )
    session.add(survey)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise RelayError("survey_exists", f"a survey named {name!r} exists", 409) from exc
    audit(
        session,
        tenant_id=g.tenant.id,
        actor=f"key:{g.api_key.prefix}",
        action="survey.create",
        target_type="survey",
        target_id=survey.id,
        after={"name": name, "window_hours": window},
        at=runtime().now(),
    )
    session.commit()
    return jsonify({"id": survey.id, "name": name, "window_hours": window}), 201


@bp.get("/surveys/<int:survey_id>/report")
@require_scope("messages:read")
@documented(
    "NPS report: promoters, passives, detractors, NPS, response rate (json|csv|xlsx)",
    tags=("surveys",),
)
def report(survey_id: int):  # type: ignore[no-untyped-def]
    """`?format=csv` or `xlsx` downloads the answers."""
    survey = db().get(Survey, survey_id)
    if survey is None or survey.tenant_id != g.tenant.id:
        raise RelayError("survey_not_found", f"no survey {survey_id}", 404)
    data = survey_report(db(), survey)
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return jsonify(data)
    header = ["phone", "score", "comment", "answered_at", "message_id"]
    rows = [[a[k] for k in header] for a in data["answers"]]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
        writer.writerow(["nps", data["nps"], "response_rate", data["response_rate"]])
        return Response(
            out.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=survey-{survey_id}.csv"},
        )
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("answers")
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        summary = book.create_sheet("summary")
        for key in (
            "responses",
            "sent",
            "promoters",
            "passives",
            "detractors",
            "nps",
            "response_rate",
        ):
            summary.append([key, data[key]])
        buf = io.BytesIO()
        book.save(buf)
        return Response(
            buf.getvalue(),
            headers={"Content-Disposition": f"attachment; filename=survey-{survey_id}.xlsx"},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    raise RelayError("invalid_format", "format must be json, csv or xlsx", 422)
