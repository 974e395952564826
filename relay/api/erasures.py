"""Erasure on request (152-FZ / GDPR): POST /v1/erasures {"phone"} removes or anonymises what
the relay holds about one number for one tenant, keeps it blocked, and answers the report
(relay/compliance/erasure.py says exactly what happens to each kind of row).

A tenant key with scope `admin` erases for its own tenant; the operator token names the
tenant in the body. `relay erase PHONE --tenant T` does the same from the command line.
"""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import (
    actor,
    blueprint,
    commit,
    db,
    fail,
    is_operator,
    load_body,
    operator_or_scope,
    runtime,
)
from relay.api.schemas.erasures import ErasureBodySchema, ErasureReportSchema
from relay.api.spec import documented
from relay.compliance.erasure import erase_phone
from relay.growth.links import forget_links
from relay.tenancy.tenant_phones import tenant_phone
from relay.tenancy.tenants import find_tenant

bp = blueprint("erasures", __name__)


@bp.post("/erasures")
@documented(
    "Erase one phone number: contacts deleted, texts emptied, the number kept only as a salted "
    "hash that stays on the stop-list",
    tags=("compliance",),
    body=ErasureBodySchema,
    example={"phone": "+375447000001"},
    response=ErasureReportSchema,
    not_found=False,
    errors=(404,),
)
@operator_or_scope("admin")
def post_erasure() -> ResponseReturnValue:
    """POST /v1/erasures."""
    body = load_body(ErasureBodySchema())
    session = db()
    if is_operator():
        if not body.get("tenant"):
            fail(
                "validation_error",
                "the operator names the tenant",
                422,
                {"tenant": ["required with the operator token"]},
            )
        tenant = find_tenant(session, body["tenant"])
    else:
        tenant = find_tenant(session, g.tenant.id)
    phone = tenant_phone(tenant, body["phone"], "phone")
    report = erase_phone(session, tenant, phone, actor=actor(), now=runtime().now())
    commit()
    forget_links(runtime().redis, report.pop("link_tokens"))
    return jsonify(ErasureReportSchema().dump(report))
