"""The Event on the wire (docs/architecture.md, 'API'): the marshmallow schema and its helpers.

`event_from_wire` turns the posted JSON into an `Event`, `event_to_wire` turns it back. Unknown
fields are dropped at every level (platforms keep adding fields); everything known is checked,
and errors are keyed by field path the way marshmallow reports them.

All vocabulary names (`Event`, `Customer`, `EVENT_TYPES` …) are re-exported from here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar, cast

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    validate,
    validates_schema,
)

from shared.event_model import (
    CATEGORIES,
    CHANNELS,
    CONSENT_SOURCES,
    EVENT_ID_RE,
    EVENT_TYPES,
    LOCALE_RE,
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    VIBER_MAX_TTL,
    Cart,
    Consent,
    Customer,
    Event,
    MessageRequest,
    Order,
    Source,
    requirement_errors,
)
from shared.wire_fields import (
    CURRENCY,
    NOT_BLANK,
    IdField,
    StrictBoolean,
    UtcDateTime,
    ip_validator,
    text_field,
    url_field,
    zone_validator,
)

_T = TypeVar("_T")

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "CONSENT_SOURCES",
    "EVENT_ID_RE",
    "EVENT_TYPES",
    "Cart",
    "Consent",
    "Customer",
    "Event",
    "EventSchema",
    "MessageRequest",
    "Order",
    "Source",
    "canonical_hash",
    "event_from_wire",
    "event_to_wire",
]


class _Block(Schema):
    """Base for every block: drop unknown fields on load, drop None values on dump."""

    class Meta:
        """Platforms keep adding fields: drop what we do not know instead of failing."""

        unknown = EXCLUDE

    @post_dump
    def _drop_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}

    @staticmethod
    def _build(cls: type[_T], data: dict[str, Any]) -> _T:
        # The dataclasses repeat the field checks; anything they still refuse is reported here.
        try:
            return cls(**data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class SourceSchema(_Block):
    """The `source` block."""

    platform = text_field(64, required=True)
    account = text_field(required=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Source:
        return self._build(Source, data)


class CustomerSchema(_Block):
    """The `customer` block; the phone is kept as sent (intake normalises it)."""

    # Some CRMs send the phone as a JSON number; it is text from here on.
    phone = IdField(allow_none=True, validate=[validate.Length(1, 64), NOT_BLANK])
    name = text_field(allow_none=True)
    region = text_field(64, allow_none=True)
    timezone = fields.String(allow_none=True, validate=zone_validator)
    locale = fields.String(allow_none=True, validate=validate.Regexp(LOCALE_RE))
    id = IdField(allow_none=True, validate=[validate.Length(1, MAX_ID_LENGTH), NOT_BLANK])
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Customer:
        return self._build(Customer, data)


class OrderSchema(_Block):
    """The `order` block; `total` is a decimal string on the wire."""

    id = IdField(required=True, validate=[validate.Length(1, MAX_ID_LENGTH), NOT_BLANK])
    number = IdField(allow_none=True, validate=[validate.Length(1, MAX_ID_LENGTH), NOT_BLANK])
    status = text_field(64, allow_none=True)
    previous_status = text_field(64, allow_none=True)
    total = fields.Decimal(allow_none=True, as_string=True)
    currency = fields.String(allow_none=True, validate=CURRENCY)
    url = url_field(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Order:
        return self._build(Order, data)


class CartSchema(_Block):
    """The `cart` block."""

    id = IdField(required=True, validate=[validate.Length(1, MAX_ID_LENGTH), NOT_BLANK])
    total = fields.Decimal(allow_none=True, as_string=True)
    url = url_field(allow_none=True)
    currency = fields.String(allow_none=True, validate=CURRENCY)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Cart:
        return self._build(Cart, data)


class ConsentSchema(_Block):
    """The `consent` block: the evidence of one grant or revocation."""

    purpose = text_field(64, load_default="marketing")
    channel = fields.String(allow_none=True, validate=validate.OneOf(CHANNELS))
    granted = StrictBoolean(required=True)
    source = fields.String(allow_none=True, validate=validate.OneOf(CONSENT_SOURCES))
    wording = text_field(10_000, allow_none=True)
    ip = fields.String(allow_none=True, validate=ip_validator)
    user_agent = text_field(1024, allow_none=True)
    captured_at = UtcDateTime(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Consent:
        return self._build(Consent, data)


class ViberButtonSchema(_Block):
    """A Viber button: caption and URL, both required."""

    caption = text_field(64, required=True)
    url = url_field(required=True)


class ViberSchema(_Block):
    """Loads to a plain dict: image URL, button {caption, url}, ttl in seconds."""

    image = url_field(allow_none=True)
    button = fields.Nested(ViberButtonSchema, allow_none=True)
    ttl = fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, VIBER_MAX_TTL))

    @post_load
    def _compact(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class MessageSchema(_Block):
    """The `message` block of message.requested."""

    text = text_field(MAX_TEXT_LENGTH, required=True)
    channel = fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))
    category = fields.String(load_default="transactional", validate=validate.OneOf(CATEGORIES))
    sender = text_field(64, allow_none=True)
    viber = fields.Nested(ViberSchema, allow_none=True)
    fallback_text = text_field(MAX_TEXT_LENGTH, allow_none=True)

    @validates_schema
    def _viber_only(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("channel", "sms") == "viber":
            return
        wrong = [name for name in ("viber", "fallback_text") if data.get(name) is not None]
        if wrong:
            raise ValidationError(
                {name: ["Only allowed when channel is 'viber'."] for name in wrong}
            )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> MessageRequest:
        return self._build(MessageRequest, data)


class EventSchema(_Block):
    """The whole event. Load with `event_from_wire`, dump with `event_to_wire`."""

    event_id = fields.String(
        required=True,
        validate=validate.Regexp(
            EVENT_ID_RE, error="Must be 1-128 printable ASCII characters without spaces."
        ),
    )
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    occurred_at = UtcDateTime(required=True)
    source = fields.Nested(SourceSchema, allow_none=True)
    customer = fields.Nested(CustomerSchema, allow_none=True)
    order = fields.Nested(OrderSchema, allow_none=True)
    cart = fields.Nested(CartSchema, allow_none=True)
    consent = fields.Nested(ConsentSchema, allow_none=True)
    message = fields.Nested(MessageSchema, allow_none=True)
    data = fields.Dict(keys=fields.String(), allow_none=True)

    @validates_schema
    def _per_type(self, data: dict[str, Any], **_: Any) -> None:
        errors = requirement_errors(
            data["type"],
            data.get("customer"),
            data.get("order"),
            data.get("cart"),
            data.get("consent"),
            data.get("message"),
        )
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Event:
        data["data"] = data.get("data") or {}
        return self._build(Event, data)

    @post_dump
    def _drop_empty_data(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if not data.get("data"):
            data.pop("data", None)
        return data


_SCHEMA = EventSchema()


def event_from_wire(data: dict[str, Any]) -> Event:
    """Load a wire dict into an Event; raises marshmallow.ValidationError with per-field errors."""
    # marshmallow's load is untyped; EventSchema's post_load builds the Event.
    return cast(Event, _SCHEMA.load(data))


def event_to_wire(event: Event) -> dict[str, Any]:
    """Dump an Event to its wire dict (None values and empty `data` left out, times in UTC)."""
    # marshmallow's dump is untyped; a Schema dumps one object to a dict.
    return cast(dict[str, Any], _SCHEMA.dump(event))


def canonical_hash(wire: dict[str, Any]) -> str:
    """sha256 hex of the wire dict as canonical JSON (sorted keys, compact separators).

    Used to tell an event_id replayed with the same body from one reused with a different body.
    Non-ASCII is kept as UTF-8 so the hash does not depend on a sender's escaping choice.
    """
    text = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
