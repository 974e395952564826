"""From amoCRM's data to the relay's Event: lead changes, the phone, consent.

Webhook items (`leads[status][0][…]`) carry ids as strings ("142"); API v4 answers carry them
as numbers. Everything is read through `as_int` so both work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.events import Consent, Customer, Event, Order, Source
from shared.phones import normalize_phone

PLATFORM = "amocrm"
TRUE_VALUES = {"1", "true", "yes", "y", "on", "да"}
FALSE_VALUES = {"0", "false", "no", "n", "off", "нет", ""}


def as_int(value: Any) -> int | None:
    """An id or timestamp from a webhook string or an API number; None when not an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    return None


def stage_key(pipeline_id: int | None, status_id: int | None) -> str:
    """How a stage is named in settings and flow conditions: "pipeline:status"."""
    return f"{pipeline_id}:{status_id}"


@dataclass(frozen=True)
class LeadChange:
    """A lead that was added or moved, as the webhook told us."""

    action: str  # "status" (moved) or "add" (created)
    lead_id: int
    status_id: int
    pipeline_id: int | None
    old_status_id: int | None
    old_pipeline_id: int | None
    price: str | None
    last_modified: int | None
    account_id: int | None

    @property
    def stage(self) -> str:
        """The stage the lead is in now."""
        return stage_key(self.pipeline_id, self.status_id)

    @property
    def moved(self) -> bool:
        """False for a status webhook that did not change the stage (amoCRM sends a few)."""
        if self.action == "add":
            return True
        pipeline_changed = self.old_pipeline_id is not None and self.old_pipeline_id != (
            self.pipeline_id
        )
        return self.old_status_id != self.status_id or pipeline_changed

    @classmethod
    def from_item(cls, action: str, item: Any) -> LeadChange | None:
        """Read one `leads[status|add][i]` item; None when its ids are missing or malformed."""
        if not isinstance(item, dict):
            return None
        lead_id, status_id = as_int(item.get("id")), as_int(item.get("status_id"))
        if lead_id is None or status_id is None:
            return None
        price = item.get("price")
        return cls(
            action=action,
            lead_id=lead_id,
            status_id=status_id,
            pipeline_id=as_int(item.get("pipeline_id")),
            old_status_id=as_int(item.get("old_status_id")),
            old_pipeline_id=as_int(item.get("old_pipeline_id")),
            price=price if isinstance(price, str) and price.strip() else None,
            last_modified=as_int(item.get("last_modified") or item.get("updated_at")),
            account_id=as_int(item.get("account_id")),
        )


def main_contact_id(lead: dict[str, Any]) -> int | None:
    """The lead's main contact (is_main), else its first contact; None without contacts."""
    contacts = ((lead.get("_embedded") or {}).get("contacts")) or []
    contacts = [c for c in contacts if isinstance(c, dict) and as_int(c.get("id")) is not None]
    if not contacts:
        return None
    main = next((c for c in contacts if c.get("is_main") is True), contacts[0])
    return as_int(main.get("id"))


def _field(entity: dict[str, Any], match: Any) -> list[dict[str, Any]]:
    fields = entity.get("custom_fields_values") or []
    return [f for f in fields if isinstance(f, dict) and match(f)]


def phone_candidates(contact: dict[str, Any]) -> list[str]:
    """The contact's phones (field_code PHONE), mobile (`enum_code` MOB) ones first."""
    found: list[tuple[int, int, str]] = []
    for field in _field(contact, lambda f: f.get("field_code") == "PHONE"):
        for position, value in enumerate(field.get("values") or []):
            if not isinstance(value, dict):
                continue
            raw = value.get("value")
            if isinstance(raw, int | str) and str(raw).strip():
                rank = 0 if value.get("enum_code") == "MOB" else 1
                found.append((rank, len(found) + position, str(raw).strip()))
    return [raw for _rank, _order, raw in sorted(found)]


def pick_phone(contact: dict[str, Any], region: str | None) -> str | None:
    """The number to text: the first candidate that is a valid number, else the first one.

    A number that does not normalise is still returned when nothing better exists, so the
    relay refuses it with its own reason (invalid_phone) and the refusal is recorded.
    """
    candidates = phone_candidates(contact)
    for raw in candidates:
        try:
            return normalize_phone(raw, region)
        except ValueError:  # PhoneError, or a region phonenumbers does not know
            continue
    return candidates[0] if candidates else None


def consent_state(entities: list[dict[str, Any]], field_id: int | None) -> bool | None:
    """The configured consent field: True (checked), False (explicitly unchecked), None (absent).

    Looked up on the contact first, then the lead. A checkbox comes as {"value": true}.
    """
    if field_id is None:
        return None
    for entity in entities:
        for field in _field(entity, lambda f: as_int(f.get("field_id")) == field_id):
            values = field.get("values") or []
            value = values[0].get("value") if values and isinstance(values[0], dict) else None
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower() if value is not None else ""
            if text in TRUE_VALUES:
                return True
            if text in FALSE_VALUES:
                return False
    return None


def occurred_at(change: LeadChange, fallback: datetime) -> datetime:
    """The change's time (its `last_modified`), else `fallback`."""
    if change.last_modified:
        return datetime.fromtimestamp(change.last_modified, tz=UTC)
    return fallback


def _money(price: str | None) -> Decimal | None:
    try:
        value = Decimal(price) if price is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def event_ids(account_id: str, change: LeadChange) -> tuple[str, str]:
    """(status event id, consent event id): one per lead, stage and modification time."""
    base = f"amocrm-{account_id}-lead-{change.lead_id}-{change.status_id}-{change.last_modified}"
    return base, base + "-consent"


def status_event(
    event_id: str,
    when: datetime,
    domain: str,
    settings: dict[str, Any],
    change: LeadChange,
    contact: dict[str, Any],
    phone: str,
) -> Event:
    """The order.status_changed event of a lead that reached a configured stage."""
    currency = settings.get("currency")
    total = _money(change.price)
    contact_id = as_int(contact.get("id"))
    name = contact.get("name") if isinstance(contact.get("name"), str) else None
    return Event(
        event_id=event_id,
        type="order.status_changed",
        occurred_at=when,
        source=Source(PLATFORM, domain),
        customer=Customer(
            phone=phone,
            name=(name or "").strip()[:255] or None,
            id=str(contact_id) if contact_id is not None else None,
        ),
        order=Order(
            id=str(change.lead_id),
            number=str(change.lead_id),
            status=str(change.status_id),
            previous_status=str(change.old_status_id) if change.old_status_id else None,
            total=total,
            currency=currency if total is not None and isinstance(currency, str) else None,
            url=f"https://{domain}/leads/detail/{change.lead_id}",
        ),
        data={
            "lead_id": change.lead_id,
            "contact_id": contact_id,
            "pipeline_id": change.pipeline_id,
            "status_id": change.status_id,
            "old_pipeline_id": change.old_pipeline_id,
            "old_status_id": change.old_status_id,
            "stage": change.stage,
            "account_id": settings.get("account_id"),
        },
    )


def consent_event(
    event_id: str, when: datetime, domain: str, phone: str, granted: bool, wording: str | None
) -> Event:
    """consent.granted / consent.revoked from the CRM's consent field."""
    return Event(
        event_id=event_id,
        type="consent.granted" if granted else "consent.revoked",
        occurred_at=when,
        source=Source(PLATFORM, domain),
        customer=Customer(phone=phone),
        consent=Consent(
            purpose="marketing",
            granted=granted,
            source="crm_field",
            wording=wording,
            captured_at=when,
        ),
    )
