"""The Event on the wire (DESIGN §4): the marshmallow schema and its helpers.

`event_from_wire` turns the posted JSON into an `Event`, `event_to_wire` turns it back. Unknown
fields are dropped at every level (platforms keep adding fields); everything known is checked,
and errors are keyed by field path the way marshmallow reports them.

All vocabulary names (`Event`, `Customer`, `EVENT_TYPES` …) are re-exported from here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

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

from shared.checks import CURRENCY_RE, is_valid_zone
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

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "CONSENT_SOURCES",
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


class IdField(fields.String):
    """A platform id: a string, or an integer that platforms like WooCommerce send bare."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true/false only: consent is evidence, "yes", 1 or "on" are not good enough."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset (a naive time is refused), loaded as an aware UTC datetime."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


def _text(max_len: int = 255, **kwargs: Any) -> fields.String:
    # Blank strings are refused like in the dataclasses: "   " is never a useful value.
    return fields.String(
        validate=[
            validate.Length(max=max_len),
            validate.Regexp(r"[\s\S]*\S", error="Must not be blank."),
        ],
        **kwargs,
    )


def _optional(field: fields.Field) -> fields.Field:
    field.allow_none = True
    return field


def _url(**kwargs: Any) -> fields.Url:
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,  # dev and test shops live on localhost
        validate=validate.Length(max=2048),
        **kwargs,
    )


class _Block(Schema):
    """Base for every block: drop unknown fields on load, drop None values on dump."""

    class Meta:
        unknown = EXCLUDE

    @post_dump
    def _drop_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}

    @staticmethod
    def _build(cls: type, data: dict[str, Any]) -> Any:
        # The dataclasses repeat the field checks; anything they still refuse is reported here.
        try:
            return cls(**data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class SourceSchema(_Block):
    platform = _text(64, required=True)
    account = _text(required=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Source:
        return self._build(Source, data)


def _zone_validator(value: str) -> None:
    if not is_valid_zone(value):
        raise ValidationError("Unknown time zone.")


class CustomerSchema(_Block):
    phone = _optional(_text(64))
    name = _optional(_text())
    region = _optional(_text(64))
    timezone = fields.String(allow_none=True, validate=_zone_validator)
    locale = fields.String(allow_none=True, validate=validate.Regexp(LOCALE_RE))
    id = IdField(allow_none=True, validate=validate.Length(1, MAX_ID_LENGTH))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Customer:
        return self._build(Customer, data)


_CURRENCY = validate.Regexp(CURRENCY_RE, error="Not an ISO 4217 currency code.")


class OrderSchema(_Block):
    id = IdField(required=True, validate=validate.Length(1, MAX_ID_LENGTH))
    number = IdField(allow_none=True, validate=validate.Length(1, MAX_ID_LENGTH))
    status = _optional(_text(64))
    previous_status = _optional(_text(64))
    total = fields.Decimal(allow_none=True, as_string=True)
    currency = fields.String(allow_none=True, validate=_CURRENCY)
    url = _optional(_url())

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Order:
        return self._build(Order, data)


class CartSchema(_Block):
    id = IdField(required=True, validate=validate.Length(1, MAX_ID_LENGTH))
    total = fields.Decimal(allow_none=True, as_string=True)
    url = _optional(_url())
    currency = fields.String(allow_none=True, validate=_CURRENCY)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Cart:
        return self._build(Cart, data)


def _ip_validator(value: str) -> None:
    # fields.IP would load ipaddress objects; the vocabulary keeps the text as captured.
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError("Not a valid IP address.") from None


class ConsentSchema(_Block):
    purpose = _text(64, load_default="marketing")
    channel = fields.String(allow_none=True, validate=validate.OneOf(CHANNELS))
    granted = StrictBoolean(required=True)
    source = fields.String(allow_none=True, validate=validate.OneOf(CONSENT_SOURCES))
    wording = _optional(_text(10_000))
    ip = fields.String(allow_none=True, validate=_ip_validator)
    user_agent = _optional(_text(1024))
    captured_at = UtcDateTime(allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Consent:
        return self._build(Consent, data)


class ViberButtonSchema(_Block):
    caption = _text(64, required=True)
    url = _url(required=True)


class ViberSchema(_Block):
    """Loads to a plain dict: image URL, button {caption, url}, ttl in seconds."""

    image = _optional(_url())
    button = fields.Nested(ViberButtonSchema, allow_none=True)
    ttl = fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, VIBER_MAX_TTL))

    @post_load
    def _compact(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class MessageSchema(_Block):
    text = _text(MAX_TEXT_LENGTH, required=True)
    channel = fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))
    category = fields.String(load_default="transactional", validate=validate.OneOf(CATEGORIES))
    sender = _optional(_text(64))
    viber = fields.Nested(ViberSchema, allow_none=True)
    fallback_text = _optional(_text(MAX_TEXT_LENGTH))

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
    return _SCHEMA.load(data)


def event_to_wire(event: Event) -> dict[str, Any]:
    """Dump an Event to its wire dict (None values and empty `data` left out, times in UTC)."""
    return _SCHEMA.dump(event)


def canonical_hash(wire: dict[str, Any]) -> str:
    """sha256 hex of the wire dict as canonical JSON (sorted keys, compact separators).

    Used to tell an event_id replayed with the same body from one reused with a different body.
    Non-ASCII is kept as UTF-8 so the hash does not depend on a sender's escaping choice.
    """
    text = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
