"""The one set of HTTP helpers every API blueprint uses.

- `blueprint(name)`: a /v1 blueprint that answers a lost unique-key race with 409 `conflict`;
- who may call: `tenant_scope(scope)`, `operator_only`, `operator_or_scope(scope)`;
- what comes in: `load_body(schema)` (422 `validation_error`), `load_query(schema)` and
  `query_faults()` (400 `invalid_query`), `tenant_phone` / `query_phone`;
- lists: `PageQuerySchema` (`limit` 1–500, default 50; opaque `cursor`), `page_answer`,
  `keyset_page`, `in_memory_page` — every list answers `{"items": [...], "next_cursor"}`;
- errors: `fail`, `error_response` and the app-wide handlers (JSON 404, 405 with `Allow`);
- changes: `record` (the audit entry, in the request's transaction) and `commit`;
- downloads: `download` (a streamed csv/xlsx attachment).

The error shape is the one of docs/architecture.md, 'API':
`{"error": {"code", "message", "fields"}}`, always a 4xx for the caller's faults. A bad query
string (limit, cursor, filter) is always 400 `invalid_query`; a JSON body that is not what the
route takes is always 422 `validation_error` (a body that is not JSON at all is 400
`malformed_json`, an empty one 400 `empty_body`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, Literal, NoReturn, ParamSpec, TypeVar, cast, overload

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, stream_with_context
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from relay.adapters.tabular_export import (
    CSV_MIME,
    XLSX_MIME,
    Sheet,
    csv_chunks,
    file_chunks,
    write_xlsx,
)
from relay.api.schemas import DB_INT_MAX
from relay.compliance.audit import audit
from relay.errors import RelayError
from relay.runtime import Runtime
from relay.tenancy.tenant_phones import tenant_phone as normalise_for_tenant
from relay.tenancy.tenants import authenticate

log = logging.getLogger("relay.api")

P = ParamSpec("P")
R = TypeVar("R")

API_PREFIX = "/v1"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
BAD_QUERY = "invalid_query"
BAD_QUERY_STATUS = 400
BAD_BODY = "validation_error"
BAD_BODY_STATUS = 422

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


# ---- the app, the request ------------------------------------------------------------------


def runtime() -> Runtime:
    """The app's runtime."""
    return cast(Runtime, current_app.extensions["relay"])  # put there by create_app


def db() -> Session:
    """The request's database session."""
    return cast(Session, g.db)  # opened for every request by create_app


def blueprint(name: str, import_name: str, url_prefix: str = API_PREFIX) -> Blueprint:
    """A blueprint of the API: a flush that lost a unique-key race with a concurrent request
    answers 409 `conflict` with nothing written, never a 500."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)

    @bp.errorhandler(IntegrityError)
    def _unique_race(_exc: IntegrityError) -> Response:
        session = g.get("db")
        if session is not None:
            session.rollback()
        return error_response(
            "conflict", "a concurrent change made this one impossible; read and retry", 409
        )

    return bp


# ---- errors --------------------------------------------------------------------------------


def fail(code: str, message: str, status: int, fields: dict[str, Any] | None = None) -> NoReturn:
    """Stop the request with the one error shape (docs/architecture.md, 'API')."""
    raise RelayError(code, message, status, fields)


def bad_query(message: str, fields: dict[str, Any] | None = None) -> NoReturn:
    """400 `invalid_query`: a parameter of the query string is wrong."""
    fail(BAD_QUERY, message, BAD_QUERY_STATUS, fields)


def bad_body(message: str, fields: dict[str, Any] | None = None) -> NoReturn:
    """422 `validation_error`: the JSON body is not what the route takes."""
    fail(BAD_BODY, message, BAD_BODY_STATUS, fields)


def error_response(
    code: str, message: str, status: int, fields: dict[str, Any] | None = None
) -> Response:
    """A JSON error response."""
    resp = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    resp.status_code = status
    return resp


def register_error_handlers(app: Flask) -> None:
    """RelayError, HTTP errors (unknown route 404, wrong method 405 with `Allow`) and anything
    unexpected all leave as JSON, never an HTML page or a stack trace."""

    @app.errorhandler(RelayError)
    def _relay_error(exc: RelayError) -> Response:
        return error_response(exc.code, exc.message, exc.status, exc.fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.response is not None:  # already answered in our shape (the rate limiter's 429)
            return cast(Response, exc.response)
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = f"the body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        allowed: list[str] = []
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            allowed = sorted(set(exc.valid_methods))
            message = f"{request.method} is not allowed here; use {', '.join(allowed)}"
        resp = error_response(HTTP_CODES.get(status, "http_error"), message, status)
        if allowed:
            resp.headers["Allow"] = ", ".join(allowed)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # our fault, not the client's: log it (Sentry picks it up) and answer without details
        log.exception("unhandled error")
        return error_response("internal_error", "the relay failed; the error was logged", 500)


# ---- who may call --------------------------------------------------------------------------


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail("unauthorized", "send the API key as 'Authorization: Bearer <key>'", 401)
    return token.strip()


def _admin_token() -> str | None:
    return current_app.config.get("RELAY", {}).get("ADMIN_TOKEN") or None


def _is_operator_token(token: str) -> bool:
    expected = _admin_token()
    return bool(expected) and hmac.compare_digest(token.encode(), str(expected).encode())


def _tenant_key(scope: str) -> None:
    found = authenticate(g.db, _bearer())
    if found is None:
        fail("invalid_api_key", "the API key is unknown or revoked", 401)
    tenant, key = found
    if scope not in key.scopes and "admin" not in key.scopes:
        fail("insufficient_scope", f"this key lacks the {scope!r} scope", 403)
    g.tenant, g.api_key = tenant, key


def _marked(inner: Callable[P, R], auth: str) -> Callable[P, R]:
    """Tag a guarded view with who may call it (`__auth__`, read by relay.api.openapi)."""
    inner.__auth__ = auth  # type: ignore[attr-defined]  # mypy has no function attributes
    return inner


def tenant_scope(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A live key of some tenant with `scope` (or `admin`): sets g.tenant and g.api_key."""

    def wrap(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            _tenant_key(scope)
            return view(*args, **kwargs)

        return _marked(inner, f"tenant:{scope}")

    return wrap


def operator_only(view: Callable[P, R]) -> Callable[P, R]:
    """RELAY_ADMIN_TOKEN, compared in constant time. A valid tenant key gets 403
    `operator_required` (it authenticated, it is just not allowed); anything else 401."""

    @wraps(view)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _bearer()
        if _admin_token() is None:
            fail("operator_api_disabled", "set RELAY_ADMIN_TOKEN to use the operator API", 403)
        if _is_operator_token(token):
            g.operator = True
            return view(*args, **kwargs)
        if authenticate(g.db, token) is not None:
            fail("operator_required", "this route needs the operator token, not a tenant key", 403)
        fail("invalid_admin_token", "the operator token is wrong", 401)

    return _marked(inner, "operator")


def operator_or_scope(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Either the operator token (g.operator, no g.tenant) or a tenant key with `scope`."""

    def wrap(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            if _is_operator_token(_bearer()):
                g.operator = True
            else:
                _tenant_key(scope)
            return view(*args, **kwargs)

        return _marked(inner, f"operator_or_tenant:{scope}")

    return wrap


def is_operator() -> bool:
    """True when the operator token authenticated this request."""
    return bool(g.get("operator"))


def actor() -> str:
    """Who is making the change, as the audit log records it."""
    return "operator" if is_operator() else f"key:{g.api_key.prefix}"


# ---- what comes in -------------------------------------------------------------------------


def _messages(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def json_body() -> Any:
    """The request body parsed as JSON: 400 `empty_body` / `malformed_json` when it is not."""
    raw = request.get_data(cache=True)
    if not raw:
        fail("empty_body", "the request body is empty; send a JSON object", 400)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RelayError("malformed_json", f"the body is not valid JSON: {exc}", 400) from exc


def json_object() -> dict[str, Any]:
    """The body as a JSON object; anything else is 422 `validation_error`."""
    body = json_body()
    if not isinstance(body, dict):
        bad_body("the body must be a JSON object", {"_schema": ["a JSON object"]})
    return body


def load_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The JSON body validated by `schema`; 422 `validation_error` naming each bad field."""
    body = json_object()
    try:
        # marshmallow's load is untyped; the API's body schemas load to dicts
        return cast(dict[str, Any], schema.load(body, partial=partial))
    except ValidationError as exc:
        raise RelayError(BAD_BODY, "the body has invalid fields", 422, _messages(exc)) from exc


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string validated by `schema`; 400 `invalid_query` naming each bad parameter."""
    try:
        # marshmallow's load is untyped; the API's query schemas load to dicts
        return cast(dict[str, Any], schema.load(request.args.to_dict()))
    except ValidationError as exc:
        raise RelayError(
            BAD_QUERY, "the query string has invalid parameters", BAD_QUERY_STATUS, _messages(exc)
        ) from exc


@contextmanager
def query_faults() -> Iterator[None]:
    """Turn a use case's refusal of a query value (a bad time, status, phone, cursor …) into
    400 `invalid_query`, keeping its message and fields."""
    try:
        yield
    except RelayError as exc:
        if exc.status in (400, 422):
            raise RelayError(BAD_QUERY, exc.message, BAD_QUERY_STATUS, exc.fields) from exc
        raise


def tenant_phone(raw: Any, field: str = "phone") -> str:
    """A phone of the body in E.164 for the request's tenant (422 `invalid_phone`,
    `unsupported_country`)."""
    return normalise_for_tenant(g.tenant, raw, field)


@overload
def query_phone(raw: Any, field: str = ..., *, required: Literal[True]) -> str: ...


@overload
def query_phone(raw: Any, field: str = ..., *, required: bool = ...) -> str | None: ...


def query_phone(raw: Any, field: str = "phone", *, required: bool = False) -> str | None:
    """A phone of the query string in E.164, None when absent; 400 `invalid_query` if bad
    (or absent and `required`)."""
    if raw is None or not str(raw).strip():
        if required:
            bad_query(f"{field} is required", {field: ["required"]})
        return None
    with query_faults():
        return normalise_for_tenant(g.tenant, raw, field)


# ---- lists ---------------------------------------------------------------------------------


class PageQuerySchema(Schema):
    """`limit` (1–500, default 50) and `cursor`: the `next_cursor` of the previous page."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"items per page, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT})"},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(1, 1000),
        metadata={"description": "the next_cursor of the previous page"},
    )


def encode_cursor(value: Any) -> str:
    """An opaque cursor for the last sort key of a page."""
    return base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type = str) -> Any:
    """The sort key a cursor holds (None for no cursor); 400 `invalid_query` for anything this
    API did not issue."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        [value] = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error):
        value = None
    if isinstance(value, int) and not -DB_INT_MAX <= value <= DB_INT_MAX:
        value = None  # no key this API issues is outside the database's INTEGER range
    if not isinstance(value, kind) or isinstance(value, bool):
        bad_query("the cursor is not one this API issued", {"cursor": ["not issued by this API"]})
    return value


def page_answer(
    items: Iterable[Any],
    next_key: Any,
    view: Callable[[Any], Any] = lambda x: x,
    *,
    encoded: bool = False,
) -> Response:
    """The one list answer: `{"items": [...], "next_cursor": <str|null>}`. `next_key` is the
    sort key to continue after (None on the last page); `encoded` when it already is an opaque
    cursor of the use case's own."""
    cursor = next_key if (encoded or next_key is None) else encode_cursor(next_key)
    return jsonify({"items": [view(i) for i in items], "next_cursor": cursor})


def keyset_page(
    session: Session,
    stmt: Select[Any],
    key: InstrumentedAttribute[Any],
    page: dict[str, Any],
    view: Callable[[Any], Any],
    *,
    descending: bool = False,
    kind: type = str,
) -> Response:
    """One page of `stmt` ordered by the unique column `key`.

    Keyset rather than offset: a page costs the same however deep it is, and rows added
    meanwhile neither repeat nor vanish. One row more than asked tells if there is a next page.
    """
    limit = page["limit"]
    last = decode_cursor(page.get("cursor"), kind)
    if last is not None:
        stmt = stmt.where(key < last if descending else key > last)
    stmt = stmt.order_by(key.desc() if descending else key).limit(limit + 1)
    rows = session.scalars(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return page_answer(rows, getattr(rows[-1], key.key) if more and rows else None, view)


def in_memory_page(
    rows: Sequence[Any], page: dict[str, Any], key: Callable[[Any], int]
) -> tuple[list[Any], int | None]:
    """A page of a short, already loaded list ordered by the integer `key`."""
    last = decode_cursor(page.get("cursor"), int)
    ordered = sorted(rows, key=key)
    if last is not None:
        ordered = [r for r in ordered if key(r) > last]
    limit = page["limit"]
    more = len(ordered) > limit
    ordered = ordered[:limit]
    return ordered, (key(ordered[-1]) if more and ordered else None)


# ---- changes -------------------------------------------------------------------------------


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


# ---- downloads -----------------------------------------------------------------------------


def download(fmt: str, filename: str, sheets: Sequence[Sheet]) -> Response:
    """A streamed attachment: csv written as it is sent (first sheet), xlsx via a temp file."""
    if fmt == "csv":
        _title, header, rows = sheets[0]
        body: Iterator[bytes] = stream_with_context(csv_chunks(header, rows))
        mime = CSV_MIME
    else:
        body, mime = file_chunks(write_xlsx(sheets)), XLSX_MIME
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
