"""Dedicated numbers and short codes (operator): replies to one always go to its tenant."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from relay.api.http import blueprint, db, fail, load_body, operator_only, record
from relay.api.schemas.numbers import NumberIn, NumberOut
from relay.api.spec import documented
from relay.errors import RelayError
from relay.storage.models import InboundNumber, Tenant

bp = blueprint("numbers", __name__)


@bp.post("/numbers")
@documented(
    "Assign a dedicated number or short code to a tenant (operator)",
    tags=("replies",),
    body=NumberIn,
    example={"number": "7020", "tenant_id": "fb98914e1b6d669276899b22f06d0d7f"},
    response=NumberOut,
    status=201,
    errors=(404, 409),
)
@operator_only
def add_number() -> ResponseReturnValue:
    """404 `tenant_not_found` for an unknown tenant, 409 `number_taken` for a number that
    already belongs to one."""
    body = load_body(NumberIn())
    number, tenant_id = body["number"].strip(), body["tenant_id"]
    if not number:
        fail("validation_error", "number is required", 422, {"number": ["required"]})
    session = db()
    if session.get(Tenant, tenant_id) is None:
        fail("tenant_not_found", f"no tenant {tenant_id!r}", 404)
    session.add(InboundNumber(tenant_id=tenant_id, number=number))
    record("number.add", "number", number, tenant_id=tenant_id, after={"number": number})
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise RelayError("number_taken", f"{number} already belongs to a tenant", 409) from exc
    return jsonify({"number": number, "tenant_id": tenant_id}), 201
