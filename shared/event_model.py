"""The common Event vocabulary: constants and self-validating frozen dataclasses.

Connectors build these, the relay consumes them. The marshmallow wire schema lives in
`shared.events`, which re-exports every name here: import from `shared.events`.

The dataclasses check the same limits as the wire schema, so an Event built in code is as valid
as one loaded from JSON; the schema repeats the checks only to report them per field.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.checks import (
    check_choice,
    check_money,
    check_text,
    check_url,
    flatten_errors,
    is_valid_zone,
    utc_datetime,
)

EVENT_TYPES = (
    "order.created",
    "order.status_changed",
    "cart.abandoned",
    "cart.recovered",
    "consent.granted",
    "consent.revoked",
    "message.requested",
    "customer.birthday",
)
CATEGORIES = ("transactional", "marketing")
CHANNELS = ("sms", "viber")
CONSENT_SOURCES = (
    "checkout_checkbox",
    "registration",
    "subscription_form",
    "survey",
    "chatbot",
    "paper_form",
    "import",
    "crm_field",
)

MAX_TEXT_LENGTH = 2000  # message text and SMS fallback text, in code points
MAX_ID_LENGTH = 128  # event ids and platform ids (order, cart, customer)
VIBER_BUTTON_KEYS = ("caption", "url")
VIBER_MAX_TTL = 14 * 24 * 3600  # seconds; gateways cap Viber TTLs at two weeks or less

EVENT_ID_RE = re.compile(r"\A[\x21-\x7e]{1,128}\Z")  # printable ASCII, no spaces
LOCALE_RE = re.compile(r"\A[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*\Z")  # "ru", "ru-RU", "be_BY"


@dataclass(frozen=True)
class Source:
    """Where an event came from: the platform and the account on it (portal, shop domain …)."""

    platform: str
    account: str

    def __post_init__(self) -> None:
        check_text("source.platform", self.platform, required=True, max_len=64)
        check_text("source.account", self.account, required=True)


@dataclass(frozen=True)
class Customer:
    """The recipient. `phone` is kept as received; the relay normalises it at intake."""

    phone: str | None = None
    name: str | None = None
    region: str | None = None  # ISO 3166-2 preferred ("BY-HM"), used to pick a time zone
    timezone: str | None = None  # IANA name, wins over everything else when present
    locale: str | None = None
    id: str | None = None
    email: str | None = None
    birthday: date | None = None

    def __post_init__(self) -> None:
        check_text("customer.phone", self.phone, max_len=64)
        check_text("customer.name", self.name)
        check_text("customer.region", self.region, max_len=64)
        check_text("customer.id", self.id, max_len=MAX_ID_LENGTH)
        check_text("customer.email", self.email, max_len=254)
        if self.email is not None and "@" not in self.email:
            raise ValueError(f"customer.email must be an e-mail address, got {self.email!r}")
        if self.timezone is not None and not (
            isinstance(self.timezone, str) and is_valid_zone(self.timezone)
        ):
            raise ValueError(f"customer.timezone must be an IANA zone, got {self.timezone!r}")
        if self.locale is not None and not (
            isinstance(self.locale, str) and LOCALE_RE.fullmatch(self.locale)
        ):
            raise ValueError(f"customer.locale must look like 'ru' or 'ru-RU', got {self.locale!r}")
        # datetime is a subclass of date; a birthday with a time of day is a mapping mistake.
        if self.birthday is not None and (
            not isinstance(self.birthday, date) or isinstance(self.birthday, datetime)
        ):
            raise ValueError(f"customer.birthday must be a date, got {self.birthday!r}")


@dataclass(frozen=True)
class Order:
    """An order on the platform; `status` is the platform's own status code."""

    id: str
    number: str | None = None
    status: str | None = None
    previous_status: str | None = None
    total: Decimal | None = None
    currency: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        check_text("order.id", self.id, required=True, max_len=MAX_ID_LENGTH)
        check_text("order.number", self.number, max_len=MAX_ID_LENGTH)
        check_text("order.status", self.status, max_len=64)
        check_text("order.previous_status", self.previous_status, max_len=64)
        check_money("order", self.total, self.currency)
        check_url("order.url", self.url)


@dataclass(frozen=True)
class Cart:
    """A cart; `url` is where the customer can pick it up again."""

    id: str
    total: Decimal | None = None
    url: str | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        check_text("cart.id", self.id, required=True, max_len=MAX_ID_LENGTH)
        check_money("cart", self.total, self.currency)
        check_url("cart.url", self.url)


@dataclass(frozen=True)
class Consent:
    """One consent record as captured: who agreed to what, where, with which words, when.

    Every field has a default only to keep the documented positional order (purpose first);
    `granted` is still required and must be a bool.
    """

    purpose: str = "marketing"
    channel: str | None = None  # None: every channel
    granted: bool | None = None
    source: str | None = None
    wording: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    captured_at: datetime | None = None

    def __post_init__(self) -> None:
        check_text("consent.purpose", self.purpose, required=True, max_len=64)
        check_choice("consent.channel", self.channel, CHANNELS, optional=True)
        if not isinstance(self.granted, bool):
            raise ValueError(f"consent.granted must be a bool, got {self.granted!r}")
        check_choice("consent.source", self.source, CONSENT_SOURCES, optional=True)
        check_text("consent.wording", self.wording, max_len=10_000)
        check_text("consent.user_agent", self.user_agent, max_len=1024)
        if self.ip is not None:
            try:
                ipaddress.ip_address(self.ip)
            except ValueError:
                raise ValueError(f"consent.ip must be an IP address, got {self.ip!r}") from None
        captured = utc_datetime("consent.captured_at", self.captured_at, optional=True)
        object.__setattr__(self, "captured_at", captured)


def check_viber(options: object) -> None:
    """Validate Viber options: {"image": url, "button": {"caption", "url"}, "ttl": seconds}."""
    if not isinstance(options, dict):
        raise ValueError(f"message.viber must be a dict, got {options!r}")
    unknown = set(options) - {"image", "button", "ttl"}
    if unknown:
        raise ValueError(f"message.viber has unknown keys, got {sorted(unknown)!r}")
    check_url("message.viber.image", options.get("image"))
    button = options.get("button")
    if button is not None:
        if not isinstance(button, dict) or set(button) != set(VIBER_BUTTON_KEYS):
            raise ValueError(f"message.viber.button needs caption and url, got {button!r}")
        check_text("message.viber.button.caption", button["caption"], required=True, max_len=64)
        check_url("message.viber.button.url", button["url"])
    ttl = options.get("ttl")
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= VIBER_MAX_TTL
    ):
        raise ValueError(f"message.viber.ttl must be 1..{VIBER_MAX_TTL} seconds, got {ttl!r}")


@dataclass(frozen=True)
class MessageRequest:
    """A text to send as is (through the policy). Viber options only make sense on Viber."""

    text: str
    channel: str = "sms"
    category: str = "transactional"
    sender: str | None = None
    viber: dict[str, Any] | None = None  # image, button {caption, url}, ttl (seconds)
    fallback_text: str | None = None  # SMS sent once when the Viber message fails or expires

    def __post_init__(self) -> None:
        check_text("message.text", self.text, required=True, max_len=MAX_TEXT_LENGTH)
        check_choice("message.channel", self.channel, CHANNELS)
        check_choice("message.category", self.category, CATEGORIES)
        check_text("message.sender", self.sender, max_len=64)
        check_text("message.fallback_text", self.fallback_text, max_len=MAX_TEXT_LENGTH)
        if self.viber is not None:
            check_viber(self.viber)
        if self.channel != "viber" and (self.viber is not None or self.fallback_text is not None):
            raise ValueError(
                f"message.viber and message.fallback_text need channel 'viber', "
                f"got {self.channel!r}"
            )


def requirement_errors(
    type_: str,
    customer: Customer | None,
    order: Order | None,
    cart: Cart | None,
    consent: Consent | None,
    message: MessageRequest | None,
) -> dict[str, Any]:
    """Per-type required blocks, as a marshmallow-style error dict ({} when all is there).

    Shared by Event.__post_init__ and the wire schema so code and JSON follow one rule.
    """
    errors: dict[str, Any] = {}
    why = f"Required for {type_} events."
    if type_ != "cart.recovered":  # a recovered cart may be anonymous; everything else is sent
        if customer is None:
            errors["customer"] = [why]
        elif customer.phone is None:
            errors["customer"] = {"phone": [why]}
    if type_.startswith("order."):
        if order is None:
            errors["order"] = [why]
        elif order.status is None:
            errors["order"] = {"status": [why]}
    elif type_.startswith("cart.") and cart is None:
        errors["cart"] = [why]
    elif type_.startswith("consent."):
        if consent is None:
            errors["consent"] = [why]
        else:
            wanted = type_ == "consent.granted"
            block: dict[str, list[str]] = {}
            if consent.granted is not wanted:
                block["granted"] = [f"Must be {str(wanted).lower()} for {type_} events."]
            if wanted and consent.wording is None:
                block["wording"] = [why]  # the wording is the evidence of what was agreed to
            if block:
                errors["consent"] = block
    elif type_ == "message.requested" and message is None:
        errors["message"] = [why]
    return errors


@dataclass(frozen=True)
class Event:
    """One thing that happened on a platform, in the relay's words."""

    event_id: str
    type: str
    occurred_at: datetime
    source: Source | None = None
    customer: Customer | None = None
    order: Order | None = None
    cart: Cart | None = None
    consent: Consent | None = None
    message: MessageRequest | None = None
    data: dict[str, Any] = field(default_factory=dict)  # free extra fields for templates

    def __post_init__(self) -> None:
        if not isinstance(self.event_id, str) or not EVENT_ID_RE.fullmatch(self.event_id):
            raise ValueError(
                f"event_id must be 1-128 printable ASCII characters without spaces, "
                f"got {self.event_id!r}"
            )
        check_choice("type", self.type, EVENT_TYPES)
        object.__setattr__(
            self, "occurred_at", utc_datetime("occurred_at", self.occurred_at, optional=False)
        )
        for name, cls in (
            ("source", Source),
            ("customer", Customer),
            ("order", Order),
            ("cart", Cart),
            ("consent", Consent),
            ("message", MessageRequest),
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, cls):
                raise ValueError(f"{name} must be a {cls.__name__}, got {value!r}")
        if not isinstance(self.data, dict) or not all(isinstance(k, str) for k in self.data):
            raise ValueError(f"data must be a dict with string keys, got {self.data!r}")
        try:  # data goes to the wire and into templates: it must be plain JSON
            json.dumps(self.data)
        except (TypeError, ValueError):
            raise ValueError(f"data must be JSON-serialisable, got {self.data!r}") from None
        problems = flatten_errors(
            requirement_errors(
                self.type, self.customer, self.order, self.cart, self.consent, self.message
            )
        )
        if problems:
            path, message = problems[0]
            raise ValueError(f"{path}: {message} got {getattr(self, path.split('.')[0])!r}")
