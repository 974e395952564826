"""Admin API, consent ledger (scope `admin`): record, query, evidence export, bulk import."""

from __future__ import annotations

import json

from flask import Response, g, jsonify
from marshmallow import fields, validate

from relay.api.admin_lists_http import (
    TAGS_CONSENT,
    actor,
    admin_only,
    bp,
    download,
    load_body,
    load_query,
    receive_upload,
    start_import,
)
from relay.api.admin_lists_schemas import (
    ConsentBodySchema,
    ConsentImportFormSchema,
    ConsentPageSchema,
    ConsentQuerySchema,
    ConsentRecordSchema,
    EvidenceQuerySchema,
    EvidenceSchema,
    ImportAnswerSchema,
)
from relay.api.common import db, runtime
from relay.api.public import tenant_phone
from relay.api.spec import documented
from relay.compliance.consent_evidence import (
    MESSAGE_COLUMNS,
    RECORD_COLUMNS,
    evidence,
    evidence_flat,
    evidence_sheets,
)
from relay.compliance.consent_ledger import current_state, list_records, record_consent, record_dict
from relay.errors import RelayError


class _ConsentImportForm(ConsentImportFormSchema):
    # loaded without `file` and with `wording` optional, so its absence gets its own code
    wording = fields.String(load_default=None, validate=validate.Length(max=10_000))


@bp.post("/consents")
@documented(
    "Record a grant or a revocation",
    tags=TAGS_CONSENT,
    body=ConsentBodySchema,
    response=ConsentRecordSchema,
    status=201,
)
@admin_only
def post_consent():  # type: ignore[no-untyped-def]
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
    "Ledger records, newest first; with phone, the current state per channel",
    tags=TAGS_CONSENT,
    query=ConsentQuerySchema,
    response=ConsentPageSchema,
)
@admin_only
def get_consents():  # type: ignore[no-untyped-def]
    """GET /v1/consents?phone=&source=&limit=&cursor=."""
    args = load_query(ConsentQuerySchema())
    phone = tenant_phone(args["phone"]) if args["phone"] else None
    session = db()
    records, cursor = list_records(
        session,
        g.tenant.id,
        phone=phone,
        source=args["source"],
        cursor=args["cursor"],
        limit=args["limit"],
    )
    return jsonify(
        {
            "phone": phone,
            "current": current_state(session, g.tenant.id, phone) if phone else None,
            "items": [record_dict(r) for r in records],
            "next_cursor": cursor,
        }
    )


@bp.get("/consents/evidence")
@documented(
    "Consent evidence for one number: records and the messages that relied on them",
    tags=TAGS_CONSENT,
    query=EvidenceQuerySchema,
    response=EvidenceSchema,
)
@admin_only
def get_evidence():  # type: ignore[no-untyped-def]
    """GET /v1/consents/evidence?phone=&format=json|csv|xlsx."""
    args = load_query(EvidenceQuerySchema())
    phone = tenant_phone(args["phone"])
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
    tags=TAGS_CONSENT,
    body=ConsentImportFormSchema,
    response=ImportAnswerSchema,
    content_type="multipart/form-data",
    errors=(400, 401, 403, 413, 415, 422),
)
@admin_only
def import_consents():  # type: ignore[no-untyped-def]
    """POST /v1/consents/import: 200 with the finished job, or 202 while workers import."""
    upload, form = receive_upload(_ConsentImportForm(exclude=("file",)))
    if not (form.get("wording") or "").strip():
        upload.path.unlink(missing_ok=True)
        raise RelayError(
            "wording_required",
            "send the exact wording these people agreed to in the form field 'wording'",
            422,
            {"wording": ["required"]},
        )
    options = {
        "wording": form["wording"].strip(),
        "channel": form["channel"],
        "granted": form["granted"],
    }
    job, _target, status = start_import("consent", upload, options)
    return jsonify({"job": job}), status
