"""Admin API, address books (scope `admin`): books, contacts, upload, download."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates

from relay.api.admin_lists_http import (
    TAGS_BOOKS,
    ListsPageQuerySchema,
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
from relay.api.admin_lists_schemas import ExportQuerySchema, ImportJobSchema, UploadFormSchema
from relay.api.common import db, runtime
from relay.api.public import tenant_phone
from relay.api.spec import documented
from relay.contacts.addressbook_import import parse_birthday
from relay.contacts.addressbooks import (
    MAX_NAME,
    add_contact,
    book_dict,
    contact_counts,
    contact_dict,
    create_book,
    delete_book,
    delete_contact,
    export_table,
    get_book,
    list_books,
    list_contacts,
    rename_book,
)
from relay.errors import RelayError


class BookBodySchema(Schema):
    """A book's name (unique per tenant)."""

    name = fields.String(required=True, validate=validate.Length(1, MAX_NAME))


class AddressBookSchema(Schema):
    """A book; `status` is importing while an upload fills it, then ready."""

    id = fields.Integer()
    name = fields.String()
    status = fields.String(metadata={"enum": ["importing", "ready"]})
    contacts = fields.Integer(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})


class AddressBookPageSchema(Schema):
    """A page of books, newest first."""

    items = fields.List(fields.Nested(AddressBookSchema))
    next_cursor = fields.Integer(allow_none=True)


class BookImportFormSchema(UploadFormSchema):
    """The file and the new book's name. Columns come from the header row: phone/телефон,
    name/имя/ФИО, birthday/дата рождения (dd.mm.yyyy, yyyy-mm-dd, Excel dates); every other
    column becomes a custom field."""

    name = fields.String(required=True, validate=validate.Length(1, MAX_NAME))


class BookImportAnswerSchema(Schema):
    """The book (importing until the job is done) and the import job."""

    book = fields.Nested(AddressBookSchema)
    job = fields.Nested(ImportJobSchema)


class BookContactBodySchema(Schema):
    """A contact added by hand."""

    phone = fields.String(required=True, validate=validate.Length(1, 32))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_NAME))
    birthday = fields.String(load_default=None, allow_none=True, metadata={"example": "17.05.1990"})
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(validate=validate.Length(1, 100)),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
    )

    @validates("birthday")
    def _birthday(self, value: str | None, **_: Any) -> None:
        try:
            parse_birthday(value)
        except (ValueError, OverflowError) as exc:
            raise ValidationError("dd.mm.yyyy or yyyy-mm-dd") from exc


class BookContactSchema(Schema):
    """One contact."""

    id = fields.Integer()
    book_id = fields.Integer()
    phone = fields.String()
    name = fields.String(allow_none=True)
    birthday = fields.String(allow_none=True, metadata={"format": "date"})
    fields_ = fields.Dict(data_key="fields")
    created_at = fields.String(metadata={"format": "date-time"})


class BookContactPageSchema(Schema):
    """A page of contacts."""

    items = fields.List(fields.Nested(BookContactSchema))
    next_cursor = fields.Integer(allow_none=True)


class BookContactQuerySchema(ListsPageQuerySchema):
    """`q`: part of the name or of the number."""

    q = fields.String(load_default=None, validate=validate.Length(max=100))


def _book(book_id: int):  # type: ignore[no-untyped-def]
    return get_book(db(), g.tenant.id, book_id)


@bp.post("/books")
@documented(
    "Create an empty address book",
    tags=TAGS_BOOKS,
    body=BookBodySchema,
    response=AddressBookSchema,
    status=201,
)
@admin_only
def post_book():  # type: ignore[no-untyped-def]
    """POST /v1/books {"name"}."""
    body = load_body(BookBodySchema())
    session = db()
    book = create_book(session, g.tenant, body["name"], actor(), runtime().now())
    session.commit()
    return jsonify(book_dict(book, 0)), 201


@bp.post("/books/import")
@documented(
    "Create a book from an xlsx/csv upload (per-row report; all or nothing)",
    tags=TAGS_BOOKS,
    body=BookImportFormSchema,
    response=BookImportAnswerSchema,
    status=201,
    content_type="multipart/form-data",
    errors=(400, 401, 403, 409, 413, 415, 422),
)
@admin_only
def import_book():  # type: ignore[no-untyped-def]
    """POST /v1/books/import: 201 with the filled book, or 202 while the workers fill it."""
    upload, form = receive_upload(BookImportFormSchema(exclude=("file",)))
    now = runtime().now()

    def prepare(session):  # type: ignore[no-untyped-def]
        return create_book(session, g.tenant, form["name"], actor(), now, status="importing")

    job, book, status = start_import("address_book", upload, {}, prepare)
    return jsonify({"book": book_dict(book, job["accepted"]), "job": job}), status


@bp.get("/books")
@documented(
    "Address books, newest first",
    tags=TAGS_BOOKS,
    query=ListsPageQuerySchema,
    response=AddressBookPageSchema,
)
@admin_only
def get_books():  # type: ignore[no-untyped-def]
    """GET /v1/books?limit=&cursor=."""
    args = load_query(ListsPageQuerySchema())
    session = db()
    books, cursor = list_books(session, g.tenant.id, args["limit"], args["cursor"])
    counts = contact_counts(session, [b.id for b in books])
    return page(books, cursor, lambda b: book_dict(b, counts.get(b.id, 0)))


@bp.get("/books/<int:book_id>")
@documented("One address book", tags=TAGS_BOOKS, response=AddressBookSchema)
@admin_only
def get_one_book(book_id: int):  # type: ignore[no-untyped-def]
    """GET /v1/books/<id>."""
    book = _book(book_id)
    return jsonify(book_dict(book, contact_counts(db(), [book.id]).get(book.id, 0)))


@bp.patch("/books/<int:book_id>")
@documented(
    "Rename an address book", tags=TAGS_BOOKS, body=BookBodySchema, response=AddressBookSchema
)
@admin_only
def patch_book(book_id: int):  # type: ignore[no-untyped-def]
    """PATCH /v1/books/<id> {"name"}."""
    body = load_body(BookBodySchema())
    session = db()
    book = rename_book(session, _book(book_id), body["name"], actor(), runtime().now())
    session.commit()
    return jsonify(book_dict(book, contact_counts(session, [book.id]).get(book.id, 0)))


@bp.delete("/books/<int:book_id>")
@documented("Delete an address book and its contacts", tags=TAGS_BOOKS, status=204)
@admin_only
def remove_book(book_id: int):  # type: ignore[no-untyped-def]
    """DELETE /v1/books/<id>."""
    session = db()
    delete_book(session, _book(book_id), actor(), runtime().now())
    session.commit()
    return "", 204


@bp.get("/books/<int:book_id>/contacts")
@documented(
    "A book's contacts (search with q)",
    tags=TAGS_BOOKS,
    query=BookContactQuerySchema,
    response=BookContactPageSchema,
)
@admin_only
def get_contacts(book_id: int):  # type: ignore[no-untyped-def]
    """GET /v1/books/<id>/contacts?q=&limit=&cursor=."""
    args = load_query(BookContactQuerySchema())
    contacts, cursor = list_contacts(db(), _book(book_id), args["q"], args["cursor"], args["limit"])
    return page(contacts, cursor, contact_dict)


@bp.post("/books/<int:book_id>/contacts")
@documented(
    "Add a contact by hand",
    tags=TAGS_BOOKS,
    body=BookContactBodySchema,
    response=BookContactSchema,
    status=201,
    errors=(400, 401, 403, 404, 409, 422),
)
@admin_only
def post_contact(book_id: int):  # type: ignore[no-untyped-def]
    """POST /v1/books/<id>/contacts {"phone", "name", "birthday", "fields"}."""
    body = load_body(BookContactBodySchema())
    book = _book(book_id)
    if book.status != "ready":
        raise RelayError("book_importing", "the book is still being imported; try later", 409)
    data = {
        "phone": tenant_phone(body["phone"]),
        "name": (body["name"] or "").strip() or None,
        "birthday": parse_birthday(body["birthday"]),
        "fields": body["fields_"],
    }
    session = db()
    contact = add_contact(session, book, data, actor(), runtime().now())
    session.commit()
    return jsonify(contact_dict(contact)), 201


@bp.delete("/books/<int:book_id>/contacts/<int:contact_id>")
@documented("Remove a contact", tags=TAGS_BOOKS, status=204)
@admin_only
def remove_contact(book_id: int, contact_id: int):  # type: ignore[no-untyped-def]
    """DELETE /v1/books/<id>/contacts/<contact_id>."""
    session = db()
    delete_contact(session, _book(book_id), contact_id, actor(), runtime().now())
    session.commit()
    return "", 204


@bp.get("/books/<int:book_id>/export")
@documented("Download a book (csv or xlsx, streamed)", tags=TAGS_BOOKS, query=ExportQuerySchema)
@admin_only
def export_book(book_id: int):  # type: ignore[no-untyped-def]
    """GET /v1/books/<id>/export?format=csv|xlsx."""
    args = load_query(ExportQuerySchema())
    book = _book(book_id)
    header, rows = export_table(runtime(), book.id)
    return download(args["format"], f"book-{book.id}", [("contacts", header, rows)])
