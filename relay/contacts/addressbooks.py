"""Address books and their contacts: create, rename, delete, list, add by hand, export, import.

A book being filled by an upload has status `importing` and becomes `ready` in the same
transaction that inserts its contacts; a background import that fails deletes the book, so an
upload never leaves half a book (campaigns should only use `ready` books).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relay.compliance.audit import audit
from relay.compliance.stoplist_admin import PAGE
from relay.errors import RelayError
from relay.runtime import Runtime
from relay.storage.dml import affected_rows
from relay.storage.models import AddressBook, Contact, Tenant

MAX_NAME = 200


def book_dict(book: AddressBook, contacts: int | None = None) -> dict[str, Any]:
    """A book as the API shows it."""
    return {
        "id": book.id,
        "name": book.name,
        "status": book.status,
        "contacts": contacts,
        "created_at": book.created_at.isoformat() if book.created_at else None,
        "updated_at": book.updated_at.isoformat() if book.updated_at else None,
    }


def contact_dict(contact: Contact) -> dict[str, Any]:
    """A contact as the API shows it."""
    return {
        "id": contact.id,
        "book_id": contact.book_id,
        "phone": contact.phone,
        "name": contact.name,
        "birthday": contact.birthday.isoformat() if contact.birthday else None,
        "fields": contact.fields or {},
        "created_at": contact.created_at.isoformat() if contact.created_at else None,
    }


def _name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME:
        raise RelayError(
            "invalid_name", f"a book name is 1 to {MAX_NAME} characters", 422, {"name": ["1-200"]}
        )
    return text


def _name_free(session: Session, tenant_id: str, name: str, except_id: int | None = None) -> None:
    stmt = select(AddressBook.id).where(
        AddressBook.tenant_id == tenant_id, AddressBook.name == name
    )
    if except_id is not None:
        stmt = stmt.where(AddressBook.id != except_id)
    if session.scalar(stmt) is not None:
        raise RelayError("book_name_taken", f"there is already a book called {name!r}", 409)


def create_book(
    session: Session, tenant: Tenant, name: Any, actor: str, now: datetime, status: str = "ready"
) -> AddressBook:
    """A new (empty) book; 409 book_name_taken when the tenant already has one by that name."""
    name = _name(name)
    _name_free(session, tenant.id, name)
    book = AddressBook(tenant_id=tenant.id, name=name, status=status, created_at=now)
    book.updated_at = now
    session.add(book)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the name between check and insert
        raise RelayError(
            "book_name_taken", f"there is already a book called {name!r}", 409
        ) from exc
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="book.create",
        target_type="address_book",
        target_id=book.id,
        after=book_dict(book),
        at=now,
    )
    return book


def get_book(session: Session, tenant_id: str, book_id: int) -> AddressBook:
    """The tenant's book, or 404 (another tenant's book is simply not found)."""
    book = session.get(AddressBook, book_id)
    if book is None or book.tenant_id != tenant_id:
        raise RelayError("book_not_found", f"no address book {book_id}", 404)
    return book


def contact_counts(session: Session, book_ids: list[int]) -> dict[int, int]:
    """Contacts per book, for the books on one page only."""
    if not book_ids:
        return {}
    rows = session.execute(
        select(Contact.book_id, func.count())
        .where(Contact.book_id.in_(book_ids))
        .group_by(Contact.book_id)
    )
    return {book_id: n for book_id, n in rows}


def list_books(
    session: Session, tenant_id: str, limit: int, cursor: int | None = None
) -> tuple[list[AddressBook], int | None]:
    """Newest first, keyset-paginated by id."""
    stmt = select(AddressBook).where(AddressBook.tenant_id == tenant_id)
    if cursor is not None:
        stmt = stmt.where(AddressBook.id < cursor)
    rows = list(session.scalars(stmt.order_by(AddressBook.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def rename_book(
    session: Session, book: AddressBook, name: Any, actor: str, now: datetime
) -> AddressBook:
    """Rename a book (409 when the name is taken)."""
    name = _name(name)
    _name_free(session, book.tenant_id, name, except_id=book.id)
    before = book_dict(book)
    book.name, book.updated_at = name, now
    session.flush()
    audit(
        session,
        tenant_id=book.tenant_id,
        actor=actor,
        action="book.rename",
        target_type="address_book",
        target_id=book.id,
        before=before,
        after=book_dict(book),
        at=now,
    )
    return book


def delete_book(session: Session, book: AddressBook, actor: str, now: datetime) -> int:
    """Delete a book and its contacts (campaigns keep their rows with book_id set to NULL)."""
    before = book_dict(book, contact_counts(session, [book.id]).get(book.id, 0))
    # contacts first, by statement: one DELETE, whatever the backend does about cascades
    removed = affected_rows(session, delete(Contact).where(Contact.book_id == book.id)) or 0
    session.execute(delete(AddressBook).where(AddressBook.id == book.id))
    audit(
        session,
        tenant_id=book.tenant_id,
        actor=actor,
        action="book.delete",
        target_type="address_book",
        target_id=book.id,
        before=before,
        at=now,
    )
    return removed


def list_contacts(
    session: Session, book: AddressBook, q: str | None, cursor: int | None, limit: int
) -> tuple[list[Contact], int | None]:
    """A page of a book's contacts by id; `q` matches part of the name or of the number."""
    from relay.storage.types import search_key

    stmt = select(Contact).where(Contact.book_id == book.id, Contact.tenant_id == book.tenant_id)
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        # the stored case-folded key, not lower(): SQLite folds ASCII only (see search_key)
        terms = [Contact.name_key.contains(search_key(q), autoescape=True)]
        if digits:
            terms.append(Contact.phone.contains(digits, autoescape=True))
        stmt = stmt.where(or_(*terms))
    if cursor is not None:
        stmt = stmt.where(Contact.id > cursor)
    rows = list(session.scalars(stmt.order_by(Contact.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def add_contact(
    session: Session, book: AddressBook, data: dict[str, Any], actor: str, now: datetime
) -> Contact:
    """Add one contact by hand (phone already normalised); 409 when the book has the number."""
    exists = session.scalar(
        select(Contact.id).where(Contact.book_id == book.id, Contact.phone == data["phone"])
    )
    if exists is not None:
        raise RelayError("contact_exists", "this number is already in the book", 409)
    contact = Contact(
        book_id=book.id,
        tenant_id=book.tenant_id,
        phone=data["phone"],
        name=data.get("name"),
        birthday=data.get("birthday"),
        fields=data.get("fields") or None,
        created_at=now,
    )
    session.add(contact)
    book.updated_at = now
    session.flush()
    audit(
        session,
        tenant_id=book.tenant_id,
        actor=actor,
        action="contact.add",
        target_type="contact",
        target_id=contact.id,
        after=contact_dict(contact),
        at=now,
    )
    return contact


def delete_contact(
    session: Session, book: AddressBook, contact_id: int, actor: str, now: datetime
) -> None:
    """Remove one contact of this book (404 for any other id)."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.book_id != book.id or contact.tenant_id != book.tenant_id:
        raise RelayError("contact_not_found", f"no contact {contact_id} in this book", 404)
    before = contact_dict(contact)
    session.delete(contact)
    book.updated_at = now
    audit(
        session,
        tenant_id=book.tenant_id,
        actor=actor,
        action="contact.delete",
        target_type="contact",
        target_id=contact_id,
        before=before,
        at=now,
    )


def _pages(rt: Runtime, book_id: int, columns: tuple[Any, ...]) -> Iterator[Any]:
    last = 0
    while True:
        with rt.session() as session:
            page = session.execute(
                select(Contact.id, *columns)
                .where(Contact.book_id == book_id, Contact.id > last)
                .order_by(Contact.id)
                .limit(PAGE)
            ).all()
        if not page:
            return
        yield from page
        last = page[-1][0]


def export_table(rt: Runtime, book_id: int) -> tuple[list[str], Iterator[list[Any]]]:
    """The header (phone, name, birthday, then every custom field) and the rows, streamed.

    Custom fields differ between contacts, so a first pass collects their names (only the
    names are kept) and a second writes the rows.
    """
    keys: dict[str, None] = {}
    for _id, fields in _pages(rt, book_id, (Contact.fields,)):
        for key in fields or {}:
            keys.setdefault(key)
    extra = list(keys)

    def rows() -> Iterator[list[Any]]:
        columns = (Contact.phone, Contact.name, Contact.birthday, Contact.fields)
        for _id, phone, name, birthday, fields in _pages(rt, book_id, columns):
            fields = fields or {}
            yield [phone, name, birthday, *(fields.get(k) for k in extra)]

    return ["phone", "name", "birthday", *extra], rows()
