"""What every admin_core view shares: the blueprint, who may call, body and query loading,
keyset pagination, and the audit call with the request's actor and clock."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from relay.api.auth import _bearer, require_scope
from relay.api.common import db, json_body, runtime
from relay.compliance.audit import audit
from relay.errors import RelayError
from relay.tenancy.tenants import authenticate

bp = Blueprint("admin_core", "relay.api.admin_core", url_prefix="/v1")

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


class PageQuerySchema(Schema):
    """`limit` (1–500, default 50) and the opaque `cursor` of the previous page."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None)


def _admin_token() -> str | None:
    return current_app.config.get("RELAY", {}).get("ADMIN_TOKEN") or None


def _is_operator_token(token: str) -> bool:
    expected = _admin_token()
    return bool(expected) and hmac.compare_digest(token.encode(), str(expected).encode())


def operator_only(view: Callable) -> Callable:
    """The request must carry RELAY_ADMIN_TOKEN. A valid tenant key gets 403
    `operator_required` (it authenticated, it is just not allowed); anything else 401."""

    @wraps(view)
    def inner(*args: Any, **kwargs: Any) -> Any:
        token = _bearer()
        if _admin_token() is None:
            raise RelayError(
                "operator_api_disabled", "set RELAY_ADMIN_TOKEN to use the operator API", 403
            )
        if _is_operator_token(token):
            g.operator = True
            return view(*args, **kwargs)
        if authenticate(g.db, token) is not None:
            raise RelayError(
                "operator_required", "this route needs the operator token, not a tenant key", 403
            )
        raise RelayError("invalid_admin_token", "the operator token is wrong", 401)

    inner.__auth__ = "operator"  # type: ignore[attr-defined]
    return inner


def tenant_scope(scope: str) -> Callable[[Callable], Callable]:
    """A tenant key with `scope` (or admin); marks the view for the OpenAPI document."""

    def wrap(view: Callable) -> Callable:
        inner = require_scope(scope)(view)
        inner.__auth__ = f"tenant:{scope}"  # type: ignore[attr-defined]
        return inner

    return wrap


def operator_or_scope(scope: str) -> Callable[[Callable], Callable]:
    """Either the operator token (g.operator, no g.tenant) or a tenant key with `scope`."""

    def wrap(view: Callable) -> Callable:
        tenant_view = require_scope(scope)(view)

        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if _is_operator_token(_bearer()):
                g.operator = True
                return view(*args, **kwargs)
            return tenant_view(*args, **kwargs)

        inner.__auth__ = f"operator_or_tenant:{scope}"  # type: ignore[attr-defined]
        return inner

    return wrap


def is_operator() -> bool:
    """True when the operator token authenticated this request."""
    return bool(g.get("operator"))


def actor() -> str:
    """Who is making the change, as the audit log records it."""
    return "operator" if is_operator() else f"key:{g.api_key.prefix}"


def load_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The JSON body validated by `schema`; 422 `validation_error` with per-field messages."""
    body = json_body()
    if not isinstance(body, dict):
        raise RelayError("invalid_body", "the body must be a JSON object", 400)
    try:
        return schema.load(body, partial=partial)
    except ValidationError as exc:
        raise RelayError(
            "validation_error", "the body has invalid fields", 422, _messages(exc)
        ) from exc


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string validated by `schema` (unknown parameters are ignored)."""
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise RelayError(
            "invalid_query", "the query string has invalid parameters", 400, _messages(exc)
        ) from exc


def _messages(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def encode_cursor(value: Any) -> str:
    """An opaque cursor for the last sort key of a page."""
    return base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: type) -> Any:
    """The sort key a cursor holds; 400 `invalid_cursor` for anything we did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        [value] = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise RelayError("invalid_cursor", "the cursor is not one this API issued", 400) from exc
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RelayError("invalid_cursor", "the cursor is not one this API issued", 400)
    return value


def keyset_page(
    session: Session,
    stmt: Select,
    key: InstrumentedAttribute,
    page: dict[str, Any],
    view: Callable[[Any], dict[str, Any]],
    *,
    descending: bool = False,
    kind: type = str,
) -> dict[str, Any]:
    """One page of `stmt` ordered by the unique column `key`: `{"items", "next_cursor"}`.

    Keyset rather than offset: a page costs the same however deep it is, and rows added
    meanwhile neither repeat nor vanish. One row more than asked tells if there is a next page.
    """
    limit = page["limit"]
    if page.get("cursor"):
        last = decode_cursor(page["cursor"], kind)
        stmt = stmt.where(key < last if descending else key > last)
    stmt = stmt.order_by(key.desc() if descending else key).limit(limit + 1)
    rows = session.scalars(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key.key)) if more and rows else None
    return {"items": [view(r) for r in rows], "next_cursor": next_cursor}


def record(
    action: str,
    target_type: str,
    target_id: Any,
    *,
    tenant_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write the audit entry for a change, in the request's transaction."""
    audit(
        db(),
        tenant_id=tenant_id,
        actor=actor(),
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        at=runtime().now(),
    )


def commit() -> None:
    """Commit the request's transaction; a unique-key race with a concurrent request (two
    creates of one name) is a 409 `conflict`, never a 500, and leaves nothing half-written."""
    session = db()
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise RelayError(
            "conflict", "a concurrent change made this one impossible; read and retry", 409
        ) from exc
