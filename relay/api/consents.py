"""The consent ledger (scope `admin`): record, list, current state, evidence, bulk import."""

from __future__ import annotations

import json

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import fields, validate

from relay.api.http import (
    actor,
    blueprint,
    db,
    decode_cursor,
    download,
    load_body,
    load_query,
    page_answer,
    query_phone,
    runtime,
    tenant_phone,
    tenant_scope,
)
from relay.api.imports import receive_upload, start_import
from relay.api.schemas.consents import (
    ConsentBodySchema,
    ConsentCurrentQuerySchema,
    ConsentCurrentSchema,
    ConsentImportFormSchema,
    ConsentQuerySchema,
    ConsentRecordSchema,
    EvidenceQuerySchema,
    EvidenceSchema,
)
from relay.api.schemas.imports import ImportAnswerSchema
from relay.api.spec import documented
from relay.compliance.consent_evidence import (
    MESSAGE_COLUMNS,
    RECORD_COLUMNS,
    evidence,
    evidence_flat,
    evidence_sheets,
)
from relay.compliance.consent_ledger import (
    current_state,
    import_options,
    list_records,
    record_consent,
    record_dict,
)
from relay.errors import RelayError

bp = blueprint("consents", __name__)
TAGS = ("consent",)


class _ConsentImportForm(ConsentImportFormSchema):
    # loaded without `file` and with `wording` optional, so its absence gets its own code
    wording = fields.String(load_default=None, validate=validate.Length(max=10_000))


@bp.post("/consents")
@documented(
    "Record a grant or a revocation",
    tags=TAGS,
    body=ConsentBodySchema,
    example={
        "phone": "+375291234567",
        "granted": True,
        "channel": "sms",
        "source": "checkout_checkbox",
        "wording": "Согласен получать SMS об акциях. Отказ: STOP на 7020",
        "ip": "203.0.113.7",
        "captured_at": "2026-01-15T11:58:00+00:00",
    },
    response=ConsentRecordSchema,
    status=201,
)
@tenant_scope("admin")
def post_consent() -> ResponseReturnValue:
    """POST /v1/consents: appended to the ledger (a revocation never edits a grant)."""
    body = load_body(ConsentBodySchema())
    body["phone"] = tenant_phone(body["phone"])
    if body["channel"] == "all":
        body["channel"] = None
    session = db()
    record = record_consent(session, g.tenant, body, actor(), runtime().now())
    session.commit()
    return jsonify(record_dict(record)), 201


@bp.get("/consents")
@documented(
    "Ledger records, newest first (filter by phone, source)",
    tags=TAGS,
    query=ConsentQuerySchema,
    page=ConsentRecordSchema,
)
@tenant_scope("admin")
def get_consents() -> Response:
    """GET /v1/consents?phone=&source=&limit=&cursor=."""
    args = load_query(ConsentQuerySchema())
    records, cursor = list_records(
        db(),
        g.tenant.id,
        phone=query_phone(args["phone"]),
        source=args["source"],
        cursor=decode_cursor(args["cursor"], int),
        limit=args["limit"],
    )
    return page_answer(records, cursor, record_dict)


@bp.get("/consents/current")
@documented(
    "The record in force per channel for one number",
    tags=TAGS,
    query=ConsentCurrentQuerySchema,
    response=ConsentCurrentSchema,
)
@tenant_scope("admin")
def get_current() -> Response:
    """GET /v1/consents/current?phone=: {"phone", "current": {"sms": …, "viber": …}}."""
    phone = query_phone(load_query(ConsentCurrentQuerySchema())["phone"], required=True)
    return jsonify({"phone": phone, "current": current_state(db(), g.tenant.id, phone)})


@bp.get("/consents/evidence")
@documented(
    "Consent evidence for one number: records and the messages that relied on them",
    tags=TAGS,
    query=EvidenceQuerySchema,
    response=EvidenceSchema,
)
@tenant_scope("admin")
def get_evidence() -> Response:
    """GET /v1/consents/evidence?phone=&format=json|csv|xlsx."""
    args = load_query(EvidenceQuerySchema())
    phone = query_phone(args["phone"], required=True)
    doc = evidence(db(), g.tenant, phone, runtime().now())
    name = f"consent-evidence-{phone.lstrip('+')}"
    if args["format"] == "json":
        response = Response(
            json.dumps(doc, ensure_ascii=False, indent=2), mimetype="application/json"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if args["format"] == "csv":
        header = (*RECORD_COLUMNS, *MESSAGE_COLUMNS)
        return download("csv", name, [("evidence", header, evidence_flat(doc))])
    return download("xlsx", name, evidence_sheets(doc))


@bp.post("/consents/import")
@documented(
    "Import consent records from xlsx/csv (source import; the wording shown is required)",
    tags=TAGS,
    body=ConsentImportFormSchema,
    body_type="multipart/form-data",
    response=ImportAnswerSchema,
    status=(200, 202),
)
@tenant_scope("admin")
def import_consents() -> ResponseReturnValue:
    """POST /v1/consents/import: 200 with the finished job, or 202 while workers import."""
    upload, form = receive_upload(_ConsentImportForm(exclude=("file",)))
    try:
        options = import_options(form.get("wording"), form["channel"], form["granted"])
    except RelayError:
        upload.path.unlink(missing_ok=True)
        raise
    job, _target, status = start_import("consent", upload, options)
    return jsonify({"job": job}), status
