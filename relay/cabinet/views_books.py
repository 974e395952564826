"""Address books: the list, create, rename, add a contact, search (Cyrillic too), upload from
xlsx/csv through the API's import use case (a job with progress and its per-row report),
download, delete with a confirmation step. Another store's book or import is the 404 page."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from relay.cabinet.blueprint import bp
from relay.cabinet.lists_support import (
    PAGE_SIZE,
    actor,
    cursor_arg,
    download,
    export_format,
    list_form_errors,
    phone,
    reason_text,
    receive_file,
)
from relay.cabinet.security import login_required, role_required, rt
from relay.contacts import imports
from relay.contacts.addressbook_import import parse_birthday
from relay.contacts.addressbooks import (
    add_contact,
    contact_counts,
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


def _books_page(
    errors: dict[str, str] | None = None,
    upload_errors: dict[str, str] | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Any:
    books, nxt = list_books(g.db, g.tenant.id, PAGE_SIZE, cursor_arg())
    counts = contact_counts(g.db, [b.id for b in books])
    return render_template(
        "cabinet/books.html", active="books", books=books, counts=counts,
        next_url=url_for("cabinet.books", cursor=nxt) if nxt else None,
        prev_url=url_for("cabinet.books") if cursor_arg() else None,
        errors=errors or {}, upload_errors=upload_errors or {}, form=form or {},
    ), status  # fmt: skip


@bp.get("/books", endpoint="books")
@login_required
def books_page():  # type: ignore[no-untyped-def]
    return _books_page()


@bp.post("/books/new")
@role_required("manager")
def book_create():  # type: ignore[no-untyped-def]
    name = request.form.get("name", "")
    try:
        book = create_book(g.db, g.tenant, name, actor(), rt().now())
    except RelayError as exc:
        g.db.rollback()
        return _books_page(errors=list_form_errors(exc), status=exc.status, form={"name": name})
    g.db.commit()
    flash(_("The address book is created."), "success")
    return redirect(url_for("cabinet.book", book_id=book.id))


@bp.post("/books/upload", endpoint="book_upload")
@role_required("manager")
def book_upload():  # type: ignore[no-untyped-def]
    name = request.form.get("upload_name", "")
    now = rt().now()
    try:
        upload = receive_file()  # start_import deletes it, or hands it to a worker
        job, _book, _done = imports.start_import(
            g.db, rt(), g.tenant, "address_book", upload, {"actor": actor()},
            lambda s: create_book(s, g.tenant, name, actor(), now, status="importing"),
        )  # fmt: skip
    except RelayError as exc:
        g.db.rollback()
        errors = {
            ("upload_name" if k == "name" else k): v for k, v in list_form_errors(exc).items()
        }
        return _books_page(upload_errors=errors, status=exc.status,
                           form={"upload_name": name})  # fmt: skip
    return redirect(url_for("cabinet.import_job", job_id=job["id"]))


_SECTION_OF_IMPORT = {"stoplist": "stoplists", "consent": "consent"}


@bp.get("/imports/<int:job_id>")
@login_required
def import_job(job_id: int):  # type: ignore[no-untyped-def]
    job = imports.find_job(g.db, rt(), g.tenant.id, job_id)
    report = job.get("report") or {}
    rows = [{**r, "reason_text": reason_text(r.get("reason", ""))} for r in report.get("rows", [])]
    reasons = [(reason_text(k), n) for k, n in (report.get("by_reason") or {}).items()]
    return render_template(
        "cabinet/import_job.html", active=_SECTION_OF_IMPORT.get(job["kind"], "books"),
        job=job, rows=rows, reasons=reasons, truncated=report.get("truncated"),
    )  # fmt: skip


def _book_page(
    book_id: int,
    errors: dict[str, str] | None = None,
    rename_errors: dict[str, str] | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Any:
    book = get_book(g.db, g.tenant.id, book_id)
    q = request.args.get("q", "").strip()[:100]
    cursor = cursor_arg()
    contacts, nxt = list_contacts(g.db, book, q or None, cursor, PAGE_SIZE)
    total = contact_counts(g.db, [book.id]).get(book.id, 0)
    return render_template(
        "cabinet/book.html", active="books", book=book, contacts=contacts, total=total, q=q,
        next_url=url_for("cabinet.book", book_id=book.id, q=q or None, cursor=nxt) if nxt else None,
        prev_url=url_for("cabinet.book", book_id=book.id, q=q or None) if cursor else None,
        errors=errors or {}, rename_errors=rename_errors or {}, form=form or {},
    ), status  # fmt: skip


@bp.get("/books/<int:book_id>")
@login_required
def book(book_id: int):  # type: ignore[no-untyped-def]
    return _book_page(book_id)


@bp.post("/books/<int:book_id>/rename")
@role_required("manager")
def book_rename(book_id: int):  # type: ignore[no-untyped-def]
    name = request.form.get("new_name", "")
    try:
        rename_book(g.db, get_book(g.db, g.tenant.id, book_id), name, actor(), rt().now())
    except RelayError as exc:
        g.db.rollback()
        if exc.status == 404:
            raise
        errors = {("new_name" if k == "name" else k): v for k, v in list_form_errors(exc).items()}
        return _book_page(book_id, rename_errors=errors, status=exc.status,
                          form={"rename": name})  # fmt: skip
    g.db.commit()
    flash(_("The address book is renamed."), "success")
    return redirect(url_for("cabinet.book", book_id=book_id))


@bp.post("/books/<int:book_id>/contacts")
@role_required("manager")
def book_add_contact(book_id: int):  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "").strip() for k in ("phone", "name", "birthday")}
    try:
        book_row = get_book(g.db, g.tenant.id, book_id)
        if book_row.status != "ready":
            raise RelayError("book_importing", "the book is still being imported", 409)
        if len(form["name"]) > 200:
            raise RelayError("invalid_name", "a name is 1 to 200 characters", 422, {"name": []})
        try:
            birthday = parse_birthday(form["birthday"] or None)
        except ValueError as exc:
            raise RelayError("invalid_birthday", "not a date", 422, {"birthday": []}) from exc
        data: dict[str, Any] = {"phone": phone(form["phone"]), "name": form["name"] or None,
                "birthday": birthday, "fields": {}}  # fmt: skip
        add_contact(g.db, book_row, data, actor(), rt().now())
    except RelayError as exc:
        g.db.rollback()
        if exc.status == 404:
            raise
        return _book_page(book_id, errors=list_form_errors(exc), status=exc.status, form=form)
    g.db.commit()
    flash(_("The contact is added."), "success")
    return redirect(url_for("cabinet.book", book_id=book_id))


@bp.post("/books/<int:book_id>/contacts/<int:contact_id>/delete")
@role_required("manager")
def book_delete_contact(book_id: int, contact_id: int):  # type: ignore[no-untyped-def]
    delete_contact(g.db, get_book(g.db, g.tenant.id, book_id), contact_id, actor(), rt().now())
    g.db.commit()
    flash(_("The contact is removed."), "success")
    return redirect(url_for("cabinet.book", book_id=book_id))


@bp.get("/books/<int:book_id>/delete")
@role_required("manager")
def book_delete_confirm(book_id: int):  # type: ignore[no-untyped-def]
    book_row = get_book(g.db, g.tenant.id, book_id)
    total = contact_counts(g.db, [book_row.id]).get(book_row.id, 0)
    return render_template("cabinet/book_delete.html", active="books", book=book_row, total=total)


@bp.post("/books/<int:book_id>/delete")
@role_required("manager")
def book_delete(book_id: int):  # type: ignore[no-untyped-def]
    delete_book(g.db, get_book(g.db, g.tenant.id, book_id), actor(), rt().now())
    g.db.commit()
    flash(_("The address book is deleted."), "success")
    return redirect(url_for("cabinet.books"))


@bp.get("/books/<int:book_id>/export")
@login_required
def book_export(book_id: int):  # type: ignore[no-untyped-def]
    book_row = get_book(g.db, g.tenant.id, book_id)
    fmt = export_format()
    header, rows = export_table(rt(), book_row.id)
    return download(fmt, f"book-{book_row.id}", header, rows)
