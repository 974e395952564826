"""The stop-list: the public look-up of one number (`messages:read`), and its management
(scope `admin`): search, add, delete, clear in two steps, export, import."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue

from relay.api.http import (
    actor,
    blueprint,
    db,
    decode_cursor,
    download,
    in_memory_page,
    load_body,
    load_query,
    page_answer,
    query_phone,
    runtime,
    tenant_phone,
    tenant_scope,
)
from relay.api.imports import receive_upload, start_import
from relay.api.schemas.imports import ImportAnswerSchema
from relay.api.schemas.stoplist import (
    StopAddSchema,
    StopClearAnswerSchema,
    StopClearSchema,
    StopDeletedSchema,
    StopDeleteSchema,
    StopEntrySchema,
    StopExportQuerySchema,
    StopImportFormSchema,
    StopLookupEntrySchema,
    StopLookupQuerySchema,
    StopSearchQuerySchema,
)
from relay.api.spec import documented
from relay.compliance.stoplist import stop_entries
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
from relay.messages.messages import iso

bp = blueprint("stoplist", __name__)
TAGS = ("stop-list",)


@bp.get("/stoplist")
@documented(
    "Stop-list entries of one number",
    tags=TAGS,
    query=StopLookupQuerySchema,
    page=StopLookupEntrySchema,
)
@tenant_scope("messages:read")
def get_stoplist() -> Response:
    """GET /v1/stoplist?phone=: every entry for the number, oldest first."""
    args = load_query(StopLookupQuerySchema())
    phone = query_phone(args["phone"], required=True)
    entries, nxt = in_memory_page(stop_entries(db(), g.tenant.id, phone), args, lambda e: e.id)
    return page_answer(
        entries,
        nxt,
        lambda e: {
            "phone": e.phone,
            "channel": e.channel,
            "source": e.source,
            "note": e.note,
            "created_at": iso(e.created_at),
        },
    )


@bp.get("/stoplist/entries")
@documented(
    "Search the stop-list (newest first)",
    tags=TAGS,
    query=StopSearchQuerySchema,
    page=StopEntrySchema,
)
@tenant_scope("admin")
def list_stop_entries() -> Response:
    """GET /v1/stoplist/entries?phone=&channel=&source=&q=&limit=&cursor=."""
    args = load_query(StopSearchQuerySchema())
    entries, cursor = search_entries(
        db(),
        g.tenant.id,
        phone=query_phone(args["phone"]),
        channel=args["channel"],
        source=args["source"],
        q=args["q"],
        cursor=decode_cursor(args["cursor"], int),
        limit=args["limit"],
    )
    return page_answer(entries, cursor, entry_dict)


@bp.post("/stoplist/entries")
@documented(
    "Stop a number by hand (source admin): 201, or 200 when it was already there",
    tags=TAGS,
    body=StopAddSchema,
    example={"phone": "+375291234567", "channel": "all", "note": "asked by phone"},
    response=StopEntrySchema,
    status=(201, 200),
)
@tenant_scope("admin")
def add_stop_entry() -> ResponseReturnValue:
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
    "Delete selected entries",
    tags=TAGS,
    body=StopDeleteSchema,
    example={"ids": [1, 2]},
    response=StopDeletedSchema,
)
@tenant_scope("admin")
def delete_stop_entries() -> Response:
    """POST /v1/stoplist/entries/delete {"ids": [...]}: ids of other tenants are not_found."""
    ids = list(dict.fromkeys(load_body(StopDeleteSchema())["ids"]))
    session = db()
    deleted, missing = delete_entries(session, g.tenant, ids, actor(), runtime().now())
    session.commit()
    return jsonify({"deleted": deleted, "not_found": missing})


@bp.post("/stoplist/clear")
@documented(
    "Delete all entries, in two steps (confirmation token)",
    tags=TAGS,
    body=StopClearSchema,
    example={"channel": "sms"},
    response=StopClearAnswerSchema,
    errors=(409,),
)
@tenant_scope("admin")
def clear_stoplist() -> Response:
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
    "Download the stop-list (csv or xlsx, streamed)",
    tags=TAGS,
    query=StopExportQuerySchema,
    produces="text/csv",
)
@tenant_scope("admin")
def export_stoplist() -> Response:
    """GET /v1/stoplist/export?format=csv|xlsx&channel=."""
    args = load_query(StopExportQuerySchema())
    rows = export_rows(runtime(), g.tenant.id, args["channel"])
    return download(args["format"], "stoplist", [("stoplist", EXPORT_HEADER, rows)])


@bp.post("/stoplist/import")
@documented(
    "Import numbers from xlsx/csv (source import), with a per-row report",
    tags=TAGS,
    body=StopImportFormSchema,
    body_type="multipart/form-data",
    response=ImportAnswerSchema,
    status=(200, 202),
)
@tenant_scope("admin")
def import_stoplist() -> ResponseReturnValue:
    """POST /v1/stoplist/import: 200 with the finished job, or 202 while workers import."""
    upload, form = receive_upload(StopImportFormSchema(exclude=("file",)))
    job, _target, status = start_import("stoplist", upload, {"channel": form["channel"]})
    return jsonify({"job": job}), status
