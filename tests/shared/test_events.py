"""The Event vocabulary: dataclasses, the wire schema, canonical hashing."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from shared.events import (
    CATEGORIES,
    CHANNELS,
    CONSENT_SOURCES,
    EVENT_TYPES,
    Cart,
    Consent,
    Customer,
    Event,
    EventSchema,
    MessageRequest,
    Order,
    Source,
    canonical_hash,
    event_from_wire,
    event_to_wire,
)

WHEN = datetime(2026, 11, 22, 15, 4, 5, tzinfo=UTC)

# The full wire event of the API (docs/architecture.md, 'API'), with values where a spec shows
# placeholders ("…").
FULL_WIRE: dict[str, Any] = {
    "event_id": "woo-727-processing",
    "type": "order.status_changed",
    "occurred_at": "2026-11-22T18:04:05+03:00",
    "source": {"platform": "woocommerce", "account": "shop.example.by"},
    "customer": {
        "phone": "+375 29 123-45-67",
        "name": "Анна",
        "region": "BY-HM",
        "timezone": None,
        "locale": "ru",
    },
    "order": {
        "id": "727",
        "number": "727",
        "status": "processing",
        "previous_status": "pending",
        "total": "29.35",
        "currency": "BYN",
    },
    "cart": {"id": "c-91", "total": "54.00", "url": "https://shop.example.by/cart/c-91"},
    "consent": {
        "purpose": "marketing",
        "channel": "sms",
        "granted": True,
        "source": "checkout_checkbox",
        "wording": "Согласен получать SMS …",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "captured_at": "2026-11-22T18:00:00+03:00",
    },
    "message": {
        "text": "Заказ принят",
        "channel": "sms",
        "category": "transactional",
        "sender": "SHOP",
    },
}


def wire(type_: str, **blocks: Any) -> dict[str, Any]:
    """A minimal wire event of `type_` with the given blocks."""
    return {"event_id": "e-1", "type": type_, "occurred_at": "2026-11-22T18:04:05+03:00", **blocks}


PHONE = {"phone": "+375291234567"}


def test_vocabulary_constants() -> None:
    assert EVENT_TYPES == (
        "order.created",
        "order.status_changed",
        "cart.abandoned",
        "cart.recovered",
        "consent.granted",
        "consent.revoked",
        "message.requested",
        "customer.birthday",
    )
    assert CATEGORIES == ("transactional", "marketing")
    assert CHANNELS == ("sms", "viber")
    assert len(CONSENT_SOURCES) == 8 and "crm_field" in CONSENT_SOURCES


def test_design_example_loads_into_dataclasses() -> None:
    event = event_from_wire(FULL_WIRE)
    assert event.event_id == "woo-727-processing"
    assert event.occurred_at == datetime(2026, 11, 22, 15, 4, 5, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC
    assert event.source == Source("woocommerce", "shop.example.by")
    assert event.customer == Customer(
        phone="+375 29 123-45-67", name="Анна", region="BY-HM", timezone=None, locale="ru"
    )
    assert event.order == Order("727", "727", "processing", "pending", Decimal("29.35"), "BYN")
    assert event.cart == Cart("c-91", Decimal("54.00"), "https://shop.example.by/cart/c-91")
    assert event.consent is not None
    assert event.consent.captured_at == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert event.consent.ip == "203.0.113.7"
    assert event.message == MessageRequest("Заказ принят", sender="SHOP")
    assert event.data == {}


def test_dump_is_utc_without_nones_and_round_trips() -> None:
    event = event_from_wire(FULL_WIRE)
    dumped = event_to_wire(event)
    assert dumped["occurred_at"] == "2026-11-22T15:04:05+00:00"
    assert dumped["customer"] == {
        "phone": "+375 29 123-45-67",
        "name": "Анна",
        "region": "BY-HM",
        "locale": "ru",
    }
    assert dumped["order"]["total"] == "29.35"
    assert "data" not in dumped
    assert event_from_wire(dumped) == event


def test_round_trip_of_a_full_viber_message_with_data() -> None:
    event = Event(
        "bx-1",
        "message.requested",
        WHEN,
        customer=Customer("+79161234567", birthday=date(1990, 5, 17), id="42"),
        message=MessageRequest(
            "Hi",
            channel="viber",
            category="marketing",
            viber={
                "image": "https://x.example/i.png",
                "button": {"caption": "Go", "url": "https://x.example"},
                "ttl": 3600,
            },
            fallback_text="Hi by SMS",
        ),
        data={"deal_id": 17, "tags": ["a"]},
    )
    dumped = event_to_wire(event)
    assert dumped["customer"]["birthday"] == "1990-05-17"
    assert dumped["data"] == {"deal_id": 17, "tags": ["a"]}
    assert event_from_wire(dumped) == event


def test_unknown_fields_are_dropped_everywhere() -> None:
    data = copy.deepcopy(FULL_WIRE)
    data["platform_extra"] = 1
    data["customer"]["loyalty"] = "gold"
    data["order"]["line_items"] = []
    data["message"]["priority"] = "high"
    assert event_from_wire(data) == event_from_wire(FULL_WIRE)


def test_occurred_at_with_any_offset_becomes_utc() -> None:
    for text in ("2026-11-22T15:04:05Z", "2026-11-22T15:04:05+00:00", "2026-11-22T20:04:05+05:00"):
        event = event_from_wire(wire("customer.birthday", customer=PHONE) | {"occurred_at": text})
        assert event.occurred_at == WHEN
        assert event.occurred_at.utcoffset() == timedelta(0)


def test_integer_ids_and_phones_are_accepted_as_text() -> None:
    birthday = event_from_wire(wire("customer.birthday", customer={"phone": 375291234567}))
    assert birthday.customer == Customer("375291234567")
    event = event_from_wire(
        wire("order.created", customer=PHONE, order={"id": 727, "status": "new"})
    )
    assert event.order is not None and event.order.id == "727"


def test_valid_minimal_event_per_type() -> None:
    minimal = {
        "order.created": {"customer": PHONE, "order": {"id": "1", "status": "new"}},
        "order.status_changed": {"customer": PHONE, "order": {"id": "1", "status": "paid"}},
        "cart.abandoned": {"customer": PHONE, "cart": {"id": "c"}},
        "cart.recovered": {"cart": {"id": "c"}},
        "consent.granted": {"customer": PHONE, "consent": {"granted": True, "wording": "Да"}},
        "consent.revoked": {"customer": PHONE, "consent": {"granted": False}},
        "message.requested": {"customer": PHONE, "message": {"text": "x"}},
        "customer.birthday": {"customer": PHONE},
    }
    assert set(minimal) == set(EVENT_TYPES)
    for type_, blocks in minimal.items():
        assert event_from_wire(wire(type_, **blocks)).type == type_


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"event_id": "a b", "type": "order.paid", "occurred_at": "2026-11-22T18:04:05"},
            {
                "event_id": ["Must be 1-128 printable ASCII characters without spaces."],
                "type": ["Must be one of: " + ", ".join(EVENT_TYPES) + "."],
                "occurred_at": ["Not a valid aware datetime."],
            },
        ),
        (
            {"type": "order.created"},
            {
                "event_id": ["Missing data for required field."],
                "occurred_at": ["Missing data for required field."],
            },
        ),
        (
            wire("customer.birthday", customer=PHONE) | {"event_id": "x" * 129},
            {"event_id": ["Must be 1-128 printable ASCII characters without spaces."]},
        ),
        (
            wire("customer.birthday", customer=PHONE) | {"event_id": "ключ"},
            {"event_id": ["Must be 1-128 printable ASCII characters without spaces."]},
        ),
        (
            wire("customer.birthday", customer=PHONE) | {"occurred_at": "2026-11-22"},
            {"occurred_at": ["Not a valid aware datetime."]},
        ),
        (
            wire("order.created"),
            {
                "customer": ["Required for order.created events."],
                "order": ["Required for order.created events."],
            },
        ),
        (
            wire("order.status_changed", customer={"name": "A"}, order={"id": "1"}),
            {
                "customer": {"phone": ["Required for order.status_changed events."]},
                "order": {"status": ["Required for order.status_changed events."]},
            },
        ),
        (
            wire("order.created", customer=PHONE, order={"status": "new"}),
            {"order": {"id": ["Missing data for required field."]}},
        ),
        (wire("cart.abandoned", customer=PHONE), {"cart": ["Required for cart.abandoned events."]}),
        (
            wire("cart.abandoned", cart={"id": "c"}),
            {"customer": ["Required for cart.abandoned events."]},
        ),
        (wire("cart.recovered", cart=None), {"cart": ["Required for cart.recovered events."]}),
        (
            wire("consent.granted", customer=PHONE),
            {"consent": ["Required for consent.granted events."]},
        ),
        (
            wire("consent.granted", customer=PHONE, consent={"granted": False}),
            {
                "consent": {
                    "granted": ["Must be true for consent.granted events."],
                    "wording": ["Required for consent.granted events."],
                }
            },
        ),
        (
            wire("consent.revoked", customer=PHONE, consent={"granted": True}),
            {"consent": {"granted": ["Must be false for consent.revoked events."]}},
        ),
        (
            wire("consent.granted", customer=PHONE, consent={"granted": 1, "wording": "Да"}),
            {"consent": {"granted": ["Not a valid boolean."]}},
        ),
        (
            wire("consent.granted", customer=PHONE, consent={"granted": True, "wording": "   "}),
            {"consent": {"wording": ["Must not be blank."]}},
        ),
        (
            wire(
                "consent.granted",
                customer=PHONE,
                consent={
                    "granted": True,
                    "wording": "Да",
                    "source": "website",
                    "channel": "email",
                    "ip": "300.1.1.1",
                    "captured_at": "2026-11-22T18:00:00",
                },
            ),
            {
                "consent": {
                    "source": ["Must be one of: " + ", ".join(CONSENT_SOURCES) + "."],
                    "channel": ["Must be one of: sms, viber."],
                    "ip": ["Not a valid IP address."],
                    "captured_at": ["Not a valid aware datetime."],
                }
            },
        ),
        (
            wire("message.requested", customer=PHONE),
            {"message": ["Required for message.requested events."]},
        ),
        (
            wire("message.requested", customer=PHONE, message={"text": ""}),
            {"message": {"text": ["Must not be blank."]}},
        ),
        (
            wire("message.requested", customer=PHONE, message={"text": "x" * 2001}),
            {"message": {"text": ["Longer than maximum length 2000."]}},
        ),
        (
            wire(
                "message.requested",
                customer=PHONE,
                message={"text": "x", "category": "promo", "channel": "email"},
            ),
            {
                "message": {
                    "category": ["Must be one of: transactional, marketing."],
                    "channel": ["Must be one of: sms, viber."],
                }
            },
        ),
        (
            wire(
                "message.requested",
                customer=PHONE,
                message={"text": "x", "viber": {"ttl": 60}, "fallback_text": "y"},
            ),
            {
                "message": {
                    "viber": ["Only allowed when channel is 'viber'."],
                    "fallback_text": ["Only allowed when channel is 'viber'."],
                }
            },
        ),
        (
            wire(
                "message.requested",
                customer=PHONE,
                message={
                    "text": "x",
                    "channel": "viber",
                    "viber": {"ttl": 0, "button": {"caption": "Go"}},
                },
            ),
            {
                "message": {
                    "viber": {
                        "ttl": [
                            "Must be greater than or equal to 1 and less than or equal to 1209600."
                        ],
                        "button": {"url": ["Missing data for required field."]},
                    }
                }
            },
        ),
        (wire("customer.birthday"), {"customer": ["Required for customer.birthday events."]}),
        (
            wire(
                "customer.birthday",
                customer={
                    "phone": "1",
                    "timezone": "Mars/Olympus",
                    "locale": "russian language",
                    "email": "nope",
                    "birthday": "17.05.1990",
                },
            ),
            {
                "customer": {
                    "timezone": ["Unknown time zone."],
                    "locale": ["String does not match expected pattern."],
                    "email": ["Not a valid email address."],
                    "birthday": ["Not a valid date."],
                }
            },
        ),
        (
            wire(
                "order.created",
                customer=PHONE,
                order={"id": "1", "status": "new", "total": "abc", "currency": "byn"},
            ),
            {
                "order": {
                    "total": ["Not a valid number."],
                    "currency": ["Not an ISO 4217 currency code."],
                }
            },
        ),
        (
            wire("cart.recovered", cart={"id": "c", "url": "javascript:alert(1)"}),
            {"cart": {"url": ["Not a valid URL."]}},
        ),
        (
            wire("cart.recovered", cart={"id": "c"}, source={"platform": "woo"}),
            {"source": {"account": ["Missing data for required field."]}},
        ),
        (
            wire("customer.birthday", customer={"phone": "  "}),
            {"customer": {"phone": ["Must not be blank."]}},
        ),
        (
            wire("cart.recovered", cart={"id": " "}),
            {"cart": {"id": ["Must not be blank."]}},
        ),
        (["not", "a", "dict"], {"_schema": ["Invalid input type."]}),
    ],
)
def test_invalid_wire_reports_errors_by_field(data: Any, errors: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        event_from_wire(data)
    assert caught.value.messages == errors


def test_event_schema_is_a_marshmallow_schema_returning_events() -> None:
    assert isinstance(EventSchema().load(FULL_WIRE), Event)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Event("a b", "order.created", WHEN), "event_id must be 1-128 printable"),
        (lambda: Event("e", "order.paid", WHEN), "type must be one of"),
        (
            lambda: Event("e", "customer.birthday", datetime(2026, 1, 1), customer=Customer("1")),
            "occurred_at must be a timezone-aware datetime",
        ),
        (
            lambda: Event("e", "order.created", WHEN, customer=Customer("1")),
            "order: Required for order.created events. got None",
        ),
        (
            lambda: Event("e", "customer.birthday", WHEN, customer=Customer(name="A")),
            "customer.phone: Required for customer.birthday events.",
        ),
        (
            lambda: Event(
                "e", "customer.birthday", WHEN, customer=Customer("1"), data={"x": Decimal(1)}
            ),
            "data must be JSON-serialisable",
        ),
        (
            lambda: Event("e", "customer.birthday", WHEN, customer={"phone": "1"}),
            "customer must be a Customer",
        ),
        (
            lambda: Customer("1", timezone="Europe/Nowhere"),
            "customer.timezone must be an IANA zone",
        ),
        (lambda: Customer("1", birthday=datetime(1990, 5, 17)), "customer.birthday must be a date"),
        (lambda: Customer("   "), "customer.phone must not be blank"),
        (lambda: Order("1", total=29.35), "order.total must be a finite Decimal"),
        (lambda: Order("1", total=Decimal("NaN")), "order.total must be a finite Decimal"),
        (lambda: Cart(""), "cart.id must not be blank"),
        (lambda: Consent(granted=None), "consent.granted must be a bool, got None"),
        (lambda: Consent(granted=True, source="web"), "consent.source must be one of"),
        (
            lambda: Consent(granted=True, captured_at=datetime(2026, 1, 1)),
            "consent.captured_at must be a timezone-aware",
        ),
        (
            lambda: MessageRequest("x" * 2001),
            "message.text must be at most 2000 characters, got 2001",
        ),
        (
            lambda: MessageRequest("x", channel="email"),
            "message.channel must be one of sms, viber, got 'email'",
        ),
        (lambda: MessageRequest("x", fallback_text="y"), "need channel 'viber', got 'sms'"),
        (
            lambda: MessageRequest("x", channel="viber", viber={"ttl": True}),
            "message.viber.ttl must be 1..1209600 seconds",
        ),
        (
            lambda: MessageRequest("x", channel="viber", viber={"video": "u"}),
            "message.viber has unknown keys, got ['video']",
        ),
        (lambda: Source("woo", ""), "source.account must not be blank"),
    ],
)
def test_dataclasses_validate_themselves(build: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        build()
    assert message in str(caught.value)


def test_dataclass_times_are_normalised_to_utc() -> None:
    minsk = timezone(timedelta(hours=3))
    event = Event(
        "e",
        "customer.birthday",
        datetime(2026, 11, 22, 18, 4, 5, tzinfo=minsk),
        customer=Customer("1"),
    )
    assert event.occurred_at == WHEN and event.occurred_at.tzinfo is UTC
    consent = Consent(granted=False, captured_at=datetime(2026, 11, 22, 18, 4, 5, tzinfo=minsk))
    assert consent.captured_at is not None and consent.captured_at.tzinfo is UTC


def test_dataclasses_are_frozen() -> None:
    event = event_from_wire(FULL_WIRE)
    with pytest.raises(AttributeError):
        event.type = "order.created"  # type: ignore[misc]


def test_canonical_hash_ignores_key_order_and_spacing_but_not_values() -> None:
    a = {"b": 1, "a": {"y": "Анна", "x": [1, 2]}}
    b = {"a": {"x": [1, 2], "y": "Анна"}, "b": 1}
    assert canonical_hash(a) == canonical_hash(b)
    assert canonical_hash(a) != canonical_hash({**a, "b": 2})
    # The exact recipe: sorted keys, compact separators, UTF-8.
    assert canonical_hash({"b": 1, "a": "é"}) == (
        "aa58fba8483623bed37c1b02edfccbdd9a53123837c20bfa4cb4049993a2872e"
    )
