"""Address books (scope `admin`): books, their contacts, upload, download."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from relay.api.http import (
    PageQuerySchema,
    actor,
    blueprint,
    db,
    decode_cursor,
    download,
    fail,
    load_body,
    load_query,
    page_answer,
    runtime,
    tenant_phone,
    tenant_scope,
)
from relay.api.imports import receive_upload, start_import
from relay.api.schemas.books import (
    AddressBookSchema,
    BookBodySchema,
    BookContactBodySchema,
    BookContactQuerySchema,
    BookContactSchema,
    BookImportAnswerSchema,
    BookImportFormSchema,
)
from relay.api.schemas.imports import ExportQuerySchema
from relay.api.spec import documented
from relay.contacts.addressbook_import import parse_birthday
from relay.contacts.addressbooks import (
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
from relay.storage.models import AddressBook

bp = blueprint("books", __name__)
TAGS_BOOKS = ("address books",)


def _book(book_id: int) -> AddressBook:
    return get_book(db(), g.tenant.id, book_id)


@bp.post("/books")
@documented(
    "Create an empty address book",
    tags=TAGS_BOOKS,
    body=BookBodySchema,
    example={"name": "Клиенты"},
    response=AddressBookSchema,
    status=201,
    errors=(409,),
)
@tenant_scope("admin")
def post_book() -> ResponseReturnValue:
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
    body_type="multipart/form-data",
    response=BookImportAnswerSchema,
    status=(201, 202),
    errors=(409,),
)
@tenant_scope("admin")
def import_book() -> ResponseReturnValue:
    """POST /v1/books/import: 201 with the filled book, or 202 while the workers fill it."""
    upload, form = receive_upload(BookImportFormSchema(exclude=("file",)))
    now = runtime().now()

    def prepare(session: Session) -> AddressBook:
        return create_book(session, g.tenant, form["name"], actor(), now, status="importing")

    job, book, status = start_import("address_book", upload, {}, prepare)
    return jsonify({"book": book_dict(book, job["accepted"]), "job": job}), status


@bp.get("/books")
@documented(
    "Address books, newest first",
    tags=TAGS_BOOKS,
    query=PageQuerySchema,
    page=AddressBookSchema,
)
@tenant_scope("admin")
def get_books() -> Response:
    """GET /v1/books?limit=&cursor=."""
    args = load_query(PageQuerySchema())
    session = db()
    books, cursor = list_books(
        session, g.tenant.id, args["limit"], decode_cursor(args["cursor"], int)
    )
    counts = contact_counts(session, [b.id for b in books])
    return page_answer(books, cursor, lambda b: book_dict(b, counts.get(b.id, 0)))


@bp.get("/books/<int:book_id>")
@documented("One address book", tags=TAGS_BOOKS, response=AddressBookSchema)
@tenant_scope("admin")
def get_one_book(book_id: int) -> Response:
    """GET /v1/books/<id>."""
    book = _book(book_id)
    return jsonify(book_dict(book, contact_counts(db(), [book.id]).get(book.id, 0)))


@bp.patch("/books/<int:book_id>")
@documented(
    "Rename an address book",
    tags=TAGS_BOOKS,
    body=BookBodySchema,
    example={"name": "Клиенты 2026"},
    response=AddressBookSchema,
    errors=(409,),
)
@tenant_scope("admin")
def patch_book(book_id: int) -> Response:
    """PATCH /v1/books/<id> {"name"}."""
    body = load_body(BookBodySchema())
    session = db()
    book = rename_book(session, _book(book_id), body["name"], actor(), runtime().now())
    session.commit()
    return jsonify(book_dict(book, contact_counts(session, [book.id]).get(book.id, 0)))


@bp.delete("/books/<int:book_id>")
@documented("Delete an address book and its contacts", tags=TAGS_BOOKS, status=204)
@tenant_scope("admin")
def remove_book(book_id: int) -> ResponseReturnValue:
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
    page=BookContactSchema,
)
@tenant_scope("admin")
def get_contacts(book_id: int) -> Response:
    """GET /v1/books/<id>/contacts?q=&limit=&cursor=."""
    args = load_query(BookContactQuerySchema())
    cursor = decode_cursor(args["cursor"], int)
    contacts, nxt = list_contacts(db(), _book(book_id), args["q"], cursor, args["limit"])
    return page_answer(contacts, nxt, contact_dict)


@bp.post("/books/<int:book_id>/contacts")
@documented(
    "Add a contact by hand",
    tags=TAGS_BOOKS,
    body=BookContactBodySchema,
    example={
        "phone": "+375291234567",
        "name": "Анна",
        "birthday": "17.05.1990",
        "fields": {"city": "Минск"},
    },
    response=BookContactSchema,
    status=201,
    errors=(409,),
)
@tenant_scope("admin")
def post_contact(book_id: int) -> ResponseReturnValue:
    """POST /v1/books/<id>/contacts {"phone", "name", "birthday", "fields"}."""
    body = load_body(BookContactBodySchema())
    book = _book(book_id)
    if book.status != "ready":
        fail("book_importing", "the book is still being imported; try later", 409)
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
@tenant_scope("admin")
def remove_contact(book_id: int, contact_id: int) -> ResponseReturnValue:
    """DELETE /v1/books/<id>/contacts/<contact_id>."""
    session = db()
    delete_contact(session, _book(book_id), contact_id, actor(), runtime().now())
    session.commit()
    return "", 204


@bp.get("/books/<int:book_id>/export")
@documented(
    "Download a book (csv or xlsx, streamed)",
    tags=TAGS_BOOKS,
    query=ExportQuerySchema,
    produces="text/csv",
)
@tenant_scope("admin")
def export_book(book_id: int) -> Response:
    """GET /v1/books/<id>/export?format=csv|xlsx."""
    args = load_query(ExportQuerySchema())
    book = _book(book_id)
    header, rows = export_table(runtime(), book.id)
    return download(args["format"], f"book-{book.id}", [("contacts", header, rows)])
