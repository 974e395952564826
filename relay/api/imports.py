"""Imports: GET /v1/imports/<id> (an import's progress and report), and the upload machinery
the stop-list, consent and address-book imports share: the file size-capped and streamed to
disk, checked, then imported inline (small files) or by the workers (large ones)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, jsonify, request
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from relay.api.http import actor, blueprint, db, fail, runtime, tenant_scope
from relay.api.schemas.imports import ImportJobSchema
from relay.api.spec import documented
from relay.contacts import imports
from relay.contacts.imports import (
    Upload,
    store_upload,
    too_large,
    upload_limit,
)
from relay.errors import RelayError

bp = blueprint("imports", __name__)

MULTIPART_SLACK = 64 * 1024  # form boundaries and small fields around the file itself


@bp.get("/imports/<int:job_id>")
@documented("An import's progress and report", tags=("imports",), response=ImportJobSchema)
@tenant_scope("admin")
def get_import(job_id: int) -> Response:
    """GET /v1/imports/<id>: total, processed, accepted, rejected, status, report."""
    return jsonify(imports.find_job(db(), runtime(), g.tenant.id, job_id))


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
        fail(
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
        fail(
            "file_required", "no file: send it in a part named 'file'", 422, {"file": ["required"]}
        )
    form: dict[str, Any] = {}
    if form_schema is not None:
        try:
            form = form_schema.load(request.form.to_dict())
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            raise RelayError(
                "validation_error", "the form has invalid fields", 422, messages
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
    job, target, finished = imports.start_import(
        db(), runtime(), g.tenant, kind, upload, {**options, "actor": actor()}, prepare
    )
    if finished:
        return job, target, 201 if target is not None else 200
    return job, target, 202
