"""Admin API, lists: stop-list management and import progress (scope `admin`).

The consent ledger and address books live in admin_lists_consents and admin_lists_books;
importing them here registers their routes on this blueprint. The public, read-only
`GET /v1/stoplist?phone=` stays in relay.api.public.
"""

from __future__ import annotations

from flask import g, jsonify

from relay.api import admin_lists_books, admin_lists_consents  # noqa: F401 — routes join bp
from relay.api.admin_lists_http import (
    TAGS_IMPORTS,
    TAGS_STOP,
    actor,
    admin_only,
    bp,
    download,
    load_body,
    load_query,
    page,
    receive_upload,
    start_import,
)
from relay.api.admin_lists_schemas import (
    ImportAnswerSchema,
    ImportJobSchema,
    StopAddSchema,
    StopClearAnswerSchema,
    StopClearSchema,
    StopDeletedSchema,
    StopDeleteSchema,
    StopEntrySchema,
    StopExportQuerySchema,
    StopImportFormSchema,
    StopPageSchema,
    StopSearchQuerySchema,
    form_without_file,
)
from relay.api.common import db, runtime
from relay.api.public import tenant_phone
from relay.api.spec import documented
from relay.compliance.stoplist_admin import (
    EXPORT_HEADER,
    add_entry,
    confirm_clear,
    delete_entries,
    entry_dict,
    export_rows,
    request_clear,
    search_entries,
)
from relay.contacts.imports import job_view
from relay.errors import RelayError
from relay.storage.models import ImportJob

__all__ = ["bp"]


@bp.get("/stoplist/entries")
@documented(
    "Search the stop-list (newest first)",
    tags=TAGS_STOP,
    query=StopSearchQuerySchema,
    response=StopPageSchema,
)
@admin_only
def list_stop_entries():  # type: ignore[no-untyped-def]
    """GET /v1/stoplist/entries?phone=&channel=&source=&q=&limit=&cursor=."""
    args = load_query(StopSearchQuerySchema())
    phone = tenant_phone(args["phone"]) if args["phone"] else None
    entries, cursor = search_entries(
        db(),
        g.tenant.id,
        phone=phone,
        channel=args["channel"],
        source=args["source"],
        q=args["q"],
        cursor=args["cursor"],
        limit=args["limit"],
    )
    return page(entries, cursor, entry_dict)


@bp.post("/stoplist/entries")
@documented(
    "Stop a number by hand (source admin)",
    tags=TAGS_STOP,
    body=StopAddSchema,
    response=StopEntrySchema,
    status=201,
)
@admin_only
def add_stop_entry():  # type: ignore[no-untyped-def]
    """POST /v1/stoplist/entries: 201 with the entry, 200 when it was already there."""
    body = load_body(StopAddSchema())
    phone = tenant_phone(body["phone"])
    session = db()
    entry, created = add_entry(
        session, g.tenant, phone, body["channel"], body["note"], actor(), runtime().now()
    )
    session.commit()
    return jsonify(entry_dict(entry)), 201 if created else 200


@bp.post("/stoplist/entries/delete")
@documented(
    "Delete selected entries", tags=TAGS_STOP, body=StopDeleteSchema, response=StopDeletedSchema
)
@admin_only
def delete_stop_entries():  # type: ignore[no-untyped-def]
    """POST /v1/stoplist/entries/delete {"ids": [...]}: ids of other tenants are not_found."""
    ids = list(dict.fromkeys(load_body(StopDeleteSchema())["ids"]))
    session = db()
    deleted, missing = delete_entries(session, g.tenant, ids, actor(), runtime().now())
    session.commit()
    return jsonify({"deleted": deleted, "not_found": missing})


@bp.post("/stoplist/clear")
@documented(
    "Delete all entries, in two steps (confirmation token)",
    tags=TAGS_STOP,
    body=StopClearSchema,
    response=StopClearAnswerSchema,
)
@admin_only
def clear_stoplist():  # type: ignore[no-untyped-def]
    """POST /v1/stoplist/clear: without `confirm_token` get one (5 min); with it, delete."""
    body = load_body(StopClearSchema())
    rt, session = runtime(), db()
    secret = str(rt.config["SECRET_KEY"])
    if not body["confirm_token"]:
        return jsonify(request_clear(session, g.tenant, body["channel"], secret, rt.now()))
    deleted = confirm_clear(
        session, g.tenant, body["channel"], body["confirm_token"], secret, actor(), rt.now()
    )
    session.commit()
    return jsonify({"deleted": deleted, "channel": body["channel"]})


@bp.get("/stoplist/export")
@documented(
    "Download the stop-list (csv or xlsx, streamed)", tags=TAGS_STOP, query=StopExportQuerySchema
)
@admin_only
def export_stoplist():  # type: ignore[no-untyped-def]
    """GET /v1/stoplist/export?format=csv|xlsx&channel=."""
    args = load_query(StopExportQuerySchema())
    rows = export_rows(runtime(), g.tenant.id, args["channel"])
    return download(args["format"], "stoplist", [("stoplist", EXPORT_HEADER, rows)])


@bp.post("/stoplist/import")
@documented(
    "Import numbers from xlsx/csv (source import), with a per-row report",
    tags=TAGS_STOP,
    body=StopImportFormSchema,
    response=ImportAnswerSchema,
    content_type="multipart/form-data",
    errors=(400, 401, 403, 413, 415, 422),
)
@admin_only
def import_stoplist():  # type: ignore[no-untyped-def]
    """POST /v1/stoplist/import: 200 with the finished job, or 202 while workers import."""
    upload, form = receive_upload(form_without_file(StopImportFormSchema))
    job, _target, status = start_import("stoplist", upload, {"channel": form["channel"]})
    return jsonify({"job": job}), status


@bp.get("/imports/<int:job_id>")
@documented("An import's progress and report", tags=TAGS_IMPORTS, response=ImportJobSchema)
@admin_only
def get_import(job_id: int):  # type: ignore[no-untyped-def]
    """GET /v1/imports/<id>: total, processed, accepted, rejected, status, report."""
    job = db().get(ImportJob, job_id)
    if job is None or job.tenant_id != g.tenant.id:
        raise RelayError("import_not_found", f"no import {job_id}", 404)
    return jsonify(job_view(runtime(), job))
