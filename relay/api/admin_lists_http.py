"""What the admin_lists views share: the blueprint, auth marker, body/query loading,
pagination, uploads (size-capped, streamed to disk), imports and streamed downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, stream_with_context
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from relay.adapters.tabular_export import (
    CSV_MIME,
    XLSX_MIME,
    Sheet,
    csv_chunks,
    file_chunks,
    write_xlsx,
)
from relay.api.auth import require_scope
from relay.api.common import db, json_body, runtime
from relay.contacts.imports import (
    Upload,
    create_job,
    enqueue_import,
    inspect_upload,
    job_view,
    run_import,
    runs_inline,
    store_upload,
    too_large,
    upload_limit,
)
from relay.errors import RelayError

bp = Blueprint("admin_lists", "relay.api.admin_lists", url_prefix="/v1")

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MULTIPART_SLACK = 64 * 1024  # form boundaries and small fields around the file itself
TAGS_STOP = ("stop-list",)
TAGS_CONSENT = ("consent",)
TAGS_BOOKS = ("address books",)
TAGS_IMPORTS = ("imports",)


class ListsPageQuerySchema(Schema):
    """`limit` (1–500, default 50) and `cursor` (the `next_cursor` of the previous page)."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.Integer(load_default=None, validate=validate.Range(0))


def admin_only(view: Callable) -> Callable:
    """A tenant key with the `admin` scope; marked for the OpenAPI document."""
    inner = require_scope("admin")(view)
    inner.__auth__ = "tenant:admin"  # type: ignore[attr-defined]
    return inner


def actor() -> str:
    """Who makes the change, as the audit log records it."""
    return f"key:{g.api_key.prefix}"


def _messages(exc: ValidationError) -> dict[str, Any]:
    return exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}


def load_body(schema: Schema) -> dict[str, Any]:
    """The JSON body through `schema`; 422 `validation_error` naming each bad field."""
    body = json_body()
    if not isinstance(body, dict):
        raise RelayError("invalid_body", "the body must be a JSON object", 400)
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise RelayError(
            "validation_error", "the body has invalid fields", 422, _messages(exc)
        ) from exc


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string through `schema`; 400 `invalid_query` naming each bad parameter."""
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise RelayError(
            "invalid_query", "the query string has invalid parameters", 400, _messages(exc)
        ) from exc


def page(items: Iterable[Any], next_cursor: int | None, view: Callable[[Any], Any]) -> Any:
    """The list answer every list endpoint gives: `{"items", "next_cursor"}`."""
    return jsonify({"items": [view(i) for i in items], "next_cursor": next_cursor})


def receive_upload(form_schema: Schema | None = None) -> tuple[Upload, dict[str, Any]]:
    """The request's `file` part saved to the upload directory, and its form fields loaded
    through `form_schema` — or a precise 4xx, with nothing saved.

    The app caps bodies at MAX_BODY_BYTES for JSON; upload routes raise that for this request
    only. A declared Content-Length over the cap is refused before a byte is read; a body that
    grows past it while streaming (chunked, or lying) is stopped by werkzeug and by the byte
    count in store_upload.
    """
    rt = runtime()
    limit = upload_limit(rt)
    if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise too_large(limit)
    if request.mimetype != "multipart/form-data":
        raise RelayError(
            "multipart_required",
            "send the file as multipart/form-data with the file in a part named 'file'",
            415,
        )
    request.max_content_length = limit + MULTIPART_SLACK
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge as exc:
        raise too_large(limit) from exc
    if upload is None or not upload.filename:
        raise RelayError(
            "file_required", "no file: send it in a part named 'file'", 422, {"file": ["required"]}
        )
    form: dict[str, Any] = {}
    if form_schema is not None:
        try:
            form = form_schema.load(request.form.to_dict())
        except ValidationError as exc:
            raise RelayError(
                "validation_error", "the form has invalid fields", 422, _messages(exc)
            ) from exc
    return store_upload(rt, upload.stream, upload.filename), form


def start_import(
    kind: str,
    upload: Upload,
    options: dict[str, Any],
    prepare: Callable[[Session], Any] | None = None,
) -> tuple[dict[str, Any], Any, int]:
    """Check the file, create what it imports into (`prepare`) and its job, then import.

    Under INLINE_MAX_ROWS rows the import runs here, in the request's transaction (answer
    200/201 with the finished job); above, the transaction commits the job and the workers
    import (202). Returns (job view, what `prepare` made, status).
    """
    session, rt = db(), runtime()
    handed_over = False
    try:
        estimate = inspect_upload(upload, kind)
        target = prepare(session) if prepare is not None else None
        job = create_job(session, g.tenant, kind, estimate, rt.now(), getattr(target, "id", None))
        options = {**options, "actor": actor(), "filename": upload.filename}
        if runs_inline(estimate):
            run_import(session, rt, job, upload, options)
            session.commit()
            return job_view(rt, job), target, 201 if target is not None else 200
        session.commit()
        handed_over = True  # from here on the worker owns (and deletes) the file
        enqueue_import(rt, job, upload, options)
        return job_view(rt, job), target, 202
    finally:
        if not handed_over:
            upload.path.unlink(missing_ok=True)


def export_format(allowed: tuple[str, ...] = ("csv", "xlsx")) -> str:
    """The `format` query parameter (default csv)."""
    fmt = (request.args.get("format") or "csv").lower()
    if fmt not in allowed:
        raise RelayError(
            "invalid_format", f"format must be one of {list(allowed)}", 400, {"format": allowed}
        )
    return fmt


def download(fmt: str, filename: str, sheets: list[Sheet]) -> Response:
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
