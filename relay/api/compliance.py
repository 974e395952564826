"""The tamper-evident ledger (scope `admin`): verify the tenant's chain, read its signed daily
digests (with the public key that checks them), and the evidence pack of one number."""

from __future__ import annotations

import json

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import (
    blueprint,
    db,
    decode_cursor,
    load_query,
    page_answer,
    query_phone,
    runtime,
    tenant_scope,
)
from relay.api.schemas.compliance import (
    DigestQuerySchema,
    DigestSchema,
    EvidencePackQuerySchema,
    EvidencePackSchema,
    VerifySchema,
)
from relay.api.spec import documented
from relay.compliance.digests import digest_dict, public_key_hex, verify_chain
from relay.compliance.evidence_pack import evidence_pack, evidence_pdf
from relay.storage.models import LedgerDigest

bp = blueprint("compliance", __name__)
TAGS = ("compliance",)


@bp.get("/compliance/verify")
@documented(
    "Recompute the tenant's hash chain and check its signed digests",
    tags=TAGS,
    response=VerifySchema,
)
@tenant_scope("admin")
def verify_() -> ResponseReturnValue:
    """GET /v1/compliance/verify: `ok`, or the first record edited, inserted or deleted."""
    report = verify_chain(db(), g.tenant.id, runtime().config["SECRET_KEY"])
    return jsonify(report.to_dict())


@bp.get("/compliance/digests")
@documented(
    "The chain's signed daily digests, newest first, each with the public key",
    tags=TAGS,
    query=DigestQuerySchema,
    page=DigestSchema,
)
@tenant_scope("admin")
def digests() -> ResponseReturnValue:
    """GET /v1/compliance/digests."""
    from sqlalchemy import select

    args = load_query(DigestQuerySchema())
    public = public_key_hex(runtime().config["SECRET_KEY"])
    stmt = select(LedgerDigest).where(LedgerDigest.tenant_key == g.tenant.id)
    cursor = decode_cursor(args["cursor"], int)
    if cursor is not None:
        stmt = stmt.where(LedgerDigest.id < cursor)
    rows = list(db().scalars(stmt.order_by(LedgerDigest.id.desc()).limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return page_answer(
        rows, rows[-1].id if more and rows else None, lambda r: digest_dict(r, public)
    )


@bp.get("/compliance/evidence")
@documented(
    "The evidence pack of one number (JSON, or a PDF in Russian or English): consent records, "
    "messages with decisions and receipts, stop-list history, chain proofs",
    tags=TAGS,
    query=EvidencePackQuerySchema,
    response=EvidencePackSchema,
)
@tenant_scope("admin")
def evidence() -> ResponseReturnValue:
    """GET /v1/compliance/evidence?phone=&format=json|pdf&lang=ru|en."""
    args = load_query(EvidencePackQuerySchema())
    phone = query_phone(args["phone"], required=True)
    rt = runtime()
    doc = evidence_pack(db(), g.tenant, phone, rt.now(), rt.config["SECRET_KEY"])
    name = f"evidence-{phone.lstrip('+')}"
    if args["format"] == "pdf":
        body = evidence_pdf(doc, args["lang"])
        response = Response(body, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{name}-{args["lang"]}.pdf"'
        )
        return response
    response = Response(json.dumps(doc, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response
