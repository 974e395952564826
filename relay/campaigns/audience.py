"""Who a campaign goes to: the contacts of its book, narrowed by its segment, in chunks.

Contacts are read in keyset-paginated chunks (`id > last id`), never a whole book at once, so
a 100,000-contact book costs a hundred small queries and a bounded amount of memory. The
birthday condition is SQL; field filters are checked per chunk in Python, because custom
fields are JSON text, which SQLite and PostgreSQL query differently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, extract, func, or_, select
from sqlalchemy.orm import Session

from relay.campaigns.schedule import birthday_matches
from relay.storage.models import Contact

CHUNK = 1000
FILTER_KEYS = ("name", "phone")  # besides "fields.<name>"


@dataclass(frozen=True)
class Recipient:
    """One contact as the planner needs it."""

    contact_id: int
    phone: str
    name: str | None
    birthday: date | None
    fields: dict[str, Any]


def filters_problem(filters: Any) -> str | None:
    """Why a segment's `filters` is unusable, or None: keys are `name`, `phone` or
    `fields.<name>`; values a string, number or a list of them (any of)."""
    if filters is None:
        return None
    if not isinstance(filters, dict):
        return 'filters must be an object such as {"fields.city": "Минск"}'
    for key, wanted in filters.items():
        if key not in FILTER_KEYS and not (key.startswith("fields.") and len(key) > 7):
            return f"unknown filter {key!r}: use name, phone or fields.<name>"
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or any(not isinstance(v, str | int | float) for v in values):
            return f"filter {key!r} needs a string, a number or a list of them"
    return None


def _norm(value: Any) -> str:
    # Spreadsheets hand over 7 as 7.0 and "Минск " with a trailing space; compare loosely.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


def _matches(recipient: Recipient, filters: dict[str, Any]) -> bool:
    for key, wanted in filters.items():
        if key.startswith("fields."):
            value = recipient.fields.get(key[7:])
        else:
            value = getattr(recipient, key)
        if value is None:
            return False
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if _norm(value) not in {_norm(w) for w in allowed}:
            return False
    return True


def _conditions(tenant_id: str, book_id: int, birthday_day: date | None) -> list[Any]:
    conds: list[Any] = [Contact.tenant_id == tenant_id, Contact.book_id == book_id]
    if birthday_day is not None:
        conds.append(
            or_(
                *(
                    and_(
                        extract("month", Contact.birthday) == m,
                        extract("day", Contact.birthday) == d,
                    )
                    for m, d in birthday_matches(birthday_day)
                )
            )
        )
    return conds


def wants_birthdays(campaign: Any) -> bool:
    """True when the campaign goes only to contacts whose birthday is the run's day."""
    return campaign.kind == "birthday" or bool((campaign.segment or {}).get("birthday_today"))


def iter_audience_pages(
    session: Session,
    campaign: Any,
    *,
    after_id: int = 0,
    birthday_day: date | None = None,
    chunk: int | None = None,
) -> Iterator[tuple[list[Recipient], int]]:
    """(recipients, last contact id read) per page of `chunk` (default CHUNK) contacts; the
    id is the resume cursor."""
    chunk = chunk or CHUNK
    if campaign.book_id is None:
        return
    filters = (campaign.segment or {}).get("filters") or {}
    conds = _conditions(campaign.tenant_id, campaign.book_id, birthday_day)
    last = after_id
    while True:
        rows = session.execute(
            select(Contact.id, Contact.phone, Contact.name, Contact.birthday, Contact.fields)
            .where(*conds, Contact.id > last)
            .order_by(Contact.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        page = [
            Recipient(
                r.id, r.phone, r.name, r.birthday, r.fields if isinstance(r.fields, dict) else {}
            )
            for r in rows
        ]
        if filters:
            page = [r for r in page if _matches(r, filters)]
        yield page, last


def count_book(session: Session, campaign: Any) -> int:
    """Contacts in the campaign's book (before field filters): sizes the launch."""
    if campaign.book_id is None:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.tenant_id == campaign.tenant_id, Contact.book_id == campaign.book_id)
        )
        or 0
    )


def render_context(recipient: Recipient, campaign: Any) -> dict[str, Any]:
    """What a campaign template sees: `contact.*`, `fields.*` and, so that templates written
    for events work too, `customer.name` / `customer.phone`."""
    contact = {
        "id": recipient.contact_id,
        "name": recipient.name,
        "phone": recipient.phone,
        "birthday": recipient.birthday.isoformat() if recipient.birthday else None,
        "fields": recipient.fields,
    }
    return {
        "contact": contact,
        "customer": {"name": recipient.name, "phone": recipient.phone},
        "fields": recipient.fields,
        "campaign": {"id": campaign.id, "name": campaign.name},
    }
