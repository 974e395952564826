"""Filling an address book from an upload: columns by header, birthdays in every spelling."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from openpyxl.utils.datetime import from_excel

from relay.adapters.tabular import cell_text
from relay.compliance.audit import audit
from relay.contacts.addressbooks import MAX_NAME, delete_book, get_book
from relay.contacts.import_rows import PHONE_HEADERS, Importer, RowReport
from relay.errors import RelayError
from relay.storage.models import AddressBook, Contact

BIRTHDAY_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y")


def parse_birthday(value: Any) -> date | None:
    """dd.mm.yyyy, yyyy-mm-dd, dd/mm/yyyy, an Excel date or date serial; ValueError otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # Excel's serial range (1900-01-01 … 9999-12-31)
            raise ValueError(value)
        found = from_excel(value).date()
    else:
        text = cell_text(value)
        if not text:
            return None
        for fmt in BIRTHDAY_FORMATS:
            try:
                found = datetime.strptime(text[:10], fmt).date()
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
    if not 1900 <= found.year <= date.today().year:
        raise ValueError(value)
    return found


class BookImporter(Importer):
    """Contacts from a file into the book the request created (status importing → ready)."""

    kind = "address_book"
    roles = {
        "phone": PHONE_HEADERS,
        "name": (
            "name",
            "имя",
            "фио",
            "ф.и.о.",
            "ф. и. о.",
            "full name",
            "контакт",
            "клиент",
            "имя клиента",
            "фамилия имя",
            "contact",
        ),
        "birthday": (
            "birthday",
            "дата рождения",
            "день рождения",
            "др",
            "birth date",
            "birthdate",
            "date of birth",
            "dob",
        ),
    }
    headerless = {"phone": 0, "name": 1}

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.book_id = int(self.job.target_id or 0)

    def begin(self) -> None:
        book = get_book(self.session, self.tenant.id, self.book_id)  # deleted meanwhile: 404
        if book.status != "importing":
            raise RelayError("book_not_importing", "this book is not waiting for an import", 409)

    def take(self, row: int, cells: list[Any], report: RowReport) -> dict[str, Any] | None:
        raw_phone = self.layout.get(cells, "phone")
        phone = self.phone(row, raw_phone, report)
        if phone is None:
            return None
        name = cell_text(self.layout.get(cells, "name"))
        if len(name) > MAX_NAME:
            report.reject(row, name, "value_too_long", f"a name is at most {MAX_NAME} characters")
            return None
        raw_birthday = self.layout.get(cells, "birthday")
        try:
            birthday = parse_birthday(raw_birthday)
        except (ValueError, OverflowError):
            report.reject(row, raw_birthday, "invalid_birthday", "dd.mm.yyyy or yyyy-mm-dd")
            return None
        if not self.first_time(row, phone, raw_phone, report):
            return None
        fields = self.extras(cells)
        return {
            "phone": phone,
            "name": name or None,
            "birthday": birthday,
            "fields": fields or None,
        }

    def write(self, rows: list[dict[str, Any]]) -> None:
        common = {"book_id": self.book_id, "tenant_id": self.tenant.id, "created_at": self.now}
        self.insert_rows(Contact, [{**common, **r} for r in rows])

    def finish(self, report: RowReport) -> None:
        book = get_book(self.session, self.tenant.id, self.book_id)
        book.status, book.updated_at = "ready", self.now
        audit(
            self.session,
            tenant_id=self.tenant.id,
            actor=self.options.get("actor") or "unknown",
            action="book.import",
            target_type="address_book",
            target_id=self.book_id,
            after={
                "job_id": self.job.id,
                "file": self.options.get("filename"),
                "accepted": self.job.accepted,
                "rejected": self.job.rejected,
            },
            at=self.now,
        )

    def abort(self) -> None:
        book = self.session.get(AddressBook, self.book_id)
        if book is not None and book.tenant_id == self.tenant.id and book.status == "importing":
            delete_book(self.session, book, self.options.get("actor") or "unknown", self.now)
