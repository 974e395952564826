"""Shared by the cabinet's list and content pages (address books, stop-lists, consent,
templates, flows, sender names): who acts, uploads within the upload limit, downloads,
phones as the tenant means them, and the import report's words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response, abort, g, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from relay.adapters.tabular_export import CSV_MIME, XLSX_MIME, csv_chunks, file_chunks, write_xlsx
from relay.cabinet.blueprint import bp
from relay.cabinet.errors import error_page
from relay.cabinet.security import rt
from relay.cabinet.texts import FIELDS, MESSAGES, error_text
from relay.contacts.imports import Upload, store_upload, too_large, upload_limit
from relay.errors import RelayError
from relay.tenancy.tenant_phones import tenant_phone

MULTIPART_SLACK = 64 * 1024
UPLOAD_ENDPOINTS = {"cabinet.book_upload", "cabinet.stoplist_import"}
PAGE_SIZE = 50

REASONS = {
    "invalid_phone": _l("not a phone number"),
    "unsupported_number": _l("not a mobile number of Russia, Belarus or Kazakhstan"),
    "unsupported_country": _l("a country this store does not serve"),
    "duplicate": _l("a repeated number"),
    "invalid_birthday": _l("the birthday is not a date"),
    "invalid_channel": _l("unknown channel"),
    "value_too_long": _l("a value is too long"),
}


def actor() -> str:
    return f"user:{g.user.id}"


@bp.before_app_request
def _upload_limit() -> None:
    # runs before the cabinet's CSRF check reads the form: an upload may be as large as the
    # upload limit (the app's cap is for JSON bodies); larger is the 413 page at once
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = upload_limit(rt()) + MULTIPART_SLACK


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Any:
    # refused before the form was read (the CSRF check reads it): the 413 page, with the limit
    limit_mb = max(1, upload_limit(rt()) // (1024 * 1024))
    return error_page(
        413,
        _(
            "The file is larger than %(mb)s MB: nothing was imported. "
            "Split it into smaller files and upload them one by one.",
            mb=limit_mb,
        ),
    )


def receive_file() -> Upload:
    """The form's `file` saved for the import, or a RelayError (413, 422) with nothing saved."""
    limit = upload_limit(rt())
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge as exc:
        raise too_large(limit) from exc
    if upload is None or not upload.filename:
        raise RelayError("file_required", "choose a file", 422, {"file": ["required"]})
    return store_upload(rt(), upload.stream, upload.filename)


def phone(raw: Any, field: str = "phone") -> str:
    return tenant_phone(g.tenant, raw, field)


def export_format(allowed: tuple[str, ...] = ("csv", "xlsx")) -> str:
    """The `format` the download link names; anything else is the 400 page."""
    fmt = request.args.get("format", "")
    if fmt not in allowed:
        abort(400)
    return fmt


def download(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Any:
    """A streamed csv, or an xlsx attachment."""
    if fmt == "xlsx":
        body: Any = file_chunks(write_xlsx([(filename[:31], header, rows)]))
        mime = XLSX_MIME
    else:
        fmt, mime = "csv", CSV_MIME
        body = stream_with_context(csv_chunks(header, rows))
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def reason_text(code: str) -> str:
    text = REASONS.get(code)
    return str(text) if text is not None else code


def cursor_arg(name: str = "cursor") -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


MESSAGES.update(
    {
        "book_name_taken": _l("There is already an address book with this name."),
        "book_not_found": _l("There is no such address book in this store."),
        "book_importing": _l("The book is still being filled from its file. Try again soon."),
        "contact_exists": _l("This number is already in the book."),
        "contact_not_found": _l("There is no such contact in this book."),
        "file_required": _l("Choose a file."),
        "file_too_large": _l(
            "The file is larger than the upload limit. Split it into smaller files."
        ),
        "invalid_file": _l("This file cannot be read as an xlsx or csv table with a phone column."),
        "import_not_found": _l("There is no such import in this store."),
        "queue_unavailable": _l("The import queue is unavailable. Upload the file again later."),
        "invalid_birthday": _l("Write the birthday as a date, e.g. 17.05.1990."),
        "unsupported_country": _l("This store does not serve numbers of that country."),
    }
)
FORM_FIELDS = (
    *FIELDS,
    "file",
    "birthday",
    "channel",
    "note",
    "name",
    "text",
    "sms_text",
    "viber_text",
    "category",
    "numbers",
    "wording",
)


def list_form_errors(exc: RelayError) -> dict[str, str]:
    """{field or "_form": message}, knowing the fields of these pages."""
    field = next((f for f in exc.fields if f in FORM_FIELDS), "_form")
    return {field: error_text(exc)}
