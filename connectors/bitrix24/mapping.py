"""Bitrix24 records → the relay's Event vocabulary. Pure functions: data in, Events out.

Bitrix24 sends numbers as strings ("ID": "42", "OPPORTUNITY": "1500.00"), phones as the
`PHONE` multi-field `[{"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}]`, times as ISO 8601 with an
offset, and `ts` as epoch seconds; everything here accepts exactly that.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.bitrix24.defaults import PLATFORM
from shared.events import (
    EVENT_ID_RE,
    Consent,
    Customer,
    Event,
    MessageRequest,
    Order,
    Source,
)

PHONE_PREFERENCE = ("MOBILE", "WORK", "HOME", "OTHER")  # VALUE_TYPE order for a text message
GRANTED = frozenset({"1", "y", "yes", "true", "да"})
REVOKED = frozenset({"0", "n", "no", "false", "нет"})
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def event_id(*parts: object) -> str:
    """A relay event_id from Bitrix24 ids: readable when it fits, hashed when it cannot."""
    raw = "b24-" + "-".join(str(p) for p in parts)
    if EVENT_ID_RE.fullmatch(raw):
        return raw
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]
    return f"b24-{digest}"


def parse_time(value: Any) -> datetime | None:
    """A Bitrix24 datetime ("2024-04-25T14:59:11+03:00") or epoch seconds → aware UTC."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.utcoffset() is not None else None


def pick_phone(phones: Any) -> str | None:
    """The number to text from a PHONE multi-field: a mobile first, then work, home, other."""
    if not isinstance(phones, list):
        return None
    entries = [p for p in phones if isinstance(p, dict) and str(p.get("VALUE") or "").strip()]
    if not entries:
        return None

    def rank(entry: dict[str, Any]) -> int:
        kind = str(entry.get("VALUE_TYPE") or "").upper()
        return PHONE_PREFERENCE.index(kind) if kind in PHONE_PREFERENCE else len(PHONE_PREFERENCE)

    return str(min(entries, key=rank)["VALUE"]).strip()


def consent_value(record: dict[str, Any] | None, field: str) -> bool | None:
    """The consent user field read as granted (True), revoked (False) or unknown (None).

    A boolean UF_CRM field comes as "1"/"0" (or "Y"/"N"); an empty value means nobody filled
    it in, which is not a refusal, so it is unknown.
    """
    if not record or not field or field not in record:
        return None
    value = record[field]
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value).strip().lower() if value is not None else ""
    if text in GRANTED:
        return True
    if text in REVOKED:
        return False
    return None


def money(total: Any, currency: Any) -> tuple[Decimal | None, str | None]:
    """OPPORTUNITY / CURRENCY_ID as the Event wants them, or (None, None) when unusable."""
    code = str(currency or "").strip().upper()
    try:
        amount = Decimal(str(total))
    except (InvalidOperation, ValueError):
        return None, None
    if not amount.is_finite() or not _CURRENCY.match(code):
        return None, None
    return amount, code


def _text(value: Any, limit: int = 255) -> str | None:
    text = str(value or "").strip()
    return text[:limit] if text else None


def stage_event(
    member_id: str,
    entity: dict[str, Any],
    phone: str,
    marker: str,
    occurred_at: datetime,
    previous_stage: str | None,
    contact: dict[str, Any] | None,
) -> Event:
    """`order.status_changed` for a CRM entity that now sits in `entity["stage"]`.

    `marker` identifies the stage entry (the stage history record's ID, or the time the
    entity moved): the same entry always gives the same event_id, so a repeated or late event
    is a duplicate at the relay, while a deal that really comes back to a stage is new.
    """
    kind, item_id, stage = entity["kind"], entity["id"], entity["stage"]
    total, currency = money(entity.get("opportunity"), entity.get("currency"))
    name = (contact or {}).get("NAME") or entity.get("name")
    return Event(
        event_id=event_id(member_id, kind, item_id, stage, marker),
        type="order.status_changed",
        occurred_at=occurred_at,
        source=Source(PLATFORM, member_id),
        customer=Customer(
            phone=phone,
            name=_text(name),
            id=_text(entity.get("contact_id")),
        ),
        order=Order(
            id=str(item_id),
            number=str(item_id),
            status=stage[:64],
            previous_status=(previous_stage or None) and previous_stage[:64],
            total=total,
            currency=currency,
        ),
        data={
            "title": entity.get("title") or "",
            "bitrix24": {
                "kind": "stage",
                "entity_type": kind,
                "entity_type_id": entity["entity_type_id"],
                "entity_id": str(item_id),
                "contact_id": entity.get("contact_id") or None,
                "stage_id": stage,
                "category_id": entity.get("category_id"),
            },
        },
    )


def consent_event(
    member_id: str,
    owner: str,
    granted: bool,
    phone: str,
    captured_at: datetime,
    field: str,
    wording: str,
) -> Event:
    """`consent.granted` / `consent.revoked` from the CRM's consent field (`source=crm_field`).

    Keyed by the record's modification time: the ledger gets one entry per edit of the card,
    not one per deal event.
    """
    flag = "Y" if granted else "N"
    stamp = int(captured_at.timestamp())
    return Event(
        event_id=event_id(member_id, "consent", owner, flag, stamp),
        type="consent.granted" if granted else "consent.revoked",
        occurred_at=captured_at,
        source=Source(PLATFORM, member_id),
        customer=Customer(phone=phone),
        consent=Consent(
            purpose="marketing",
            channel=None,
            granted=granted,
            source="crm_field",
            wording=wording or f"Отметка «{field}» в карточке CRM Битрикс24",
            captured_at=captured_at,
        ),
    )


def provider_event(
    member_id: str,
    message_id: str,
    phone: str,
    text: str,
    occurred_at: datetime,
    category: str,
    sender: str | None,
    target: dict[str, Any],
) -> Event:
    """`message.requested` for a manager's or robot's SMS sent through our provider."""
    return Event(
        event_id=event_id(member_id, "sms", message_id),
        type="message.requested",
        occurred_at=occurred_at,
        source=Source(PLATFORM, member_id),
        customer=Customer(phone=phone, id=_text(target.get("contact_id"))),
        message=MessageRequest(text=text, channel="sms", category=category, sender=sender or None),
        data={"bitrix24": {"kind": "sms", "message_id": message_id, **target}},
    )
