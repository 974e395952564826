"""WooCommerce REST v3 order bodies → relay Events (pure: no Flask, no I/O).

The webhook body of an order topic is the REST v3 "retrieve an order" document, built when the
delivery runs (WooCommerce delivers in the background), so it shows the order as it is then,
not as it was when the hook fired. `plan_delivery` turns one delivery into the events to
submit, or into skips with their reasons, given what was last seen of the order:

- `order.created` → an `order.created` event (once per order) plus the status below;
- any order topic with a status → `order.status_changed` when the status differs from the
  last one seen, with `previous_status`; the same status again sends nothing;
- a delivery older than the last one seen (`date_modified_gmt`) is stale: it arrived out of
  order and must not move the customer's status backwards;
- drafts (`checkout-draft` of the block checkout, `auto-draft`, `draft`) and deleted orders
  are skipped; custom statuses pass through (flows decide whether they send anything).

The billing country is the phone's default region, so "8 029 …" in a Belarusian order and
"8 916 …" in a Russian one are both understood.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from marshmallow import ValidationError, validate

from connectors.woocommerce.stores import store_slug
from shared.events import Cart, Customer, Event, Order, Source
from shared.phones import PhoneError, normalize_phone

PLATFORM = "woocommerce"
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
DRAFT_STATUSES = frozenset({"checkout-draft", "draft", "auto-draft", "new", "trash"})
# Order meta written by the relay-sms WordPress plugin (classic checkout, block checkout).
CONSENT_META_KEYS = ("_relay_sms_marketing_consent", "_wc_other/relay-sms/marketing-consent")
CART_META_KEY = "_relay_sms_cart_id"
_STATUS_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,39}\Z")
_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{1,40}\Z")
_EMAIL = validate.Email()
MAX_ITEMS = 20


@dataclass(frozen=True)
class Seen:
    """What was last seen of one order: its status and `date_modified_gmt` (ISO, UTC)."""

    status: str
    modified: str


@dataclass
class Plan:
    """The events one delivery makes, the reasons for what it does not, the state to keep."""

    events: list[Event] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    seen: Seen | None = None
    order_id: str | None = None


class NotAnOrder(ValueError):
    """The body is not an order document (no usable `id`)."""


def _text(value: Any, limit: int = 200) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = html.unescape(str(value)).strip()
    return text[:limit] or None


def _gmt(value: Any) -> datetime | None:
    """WooCommerce's `*_gmt` dates carry no offset ("2017-03-22T19:28:08"): they are UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def meta_value(body: dict[str, Any], key: str) -> Any:
    """The value of an order meta key from `meta_data[{id, key, value}]`, or None."""
    for item in body.get("meta_data") or []:
        if isinstance(item, dict) and item.get("key") == key:
            return item.get("value")
    return None


def marketing_consent(body: dict[str, Any]) -> bool | None:
    """The plugin's checkbox as saved on the order: True, False, or None when absent."""
    for key in CONSENT_META_KEYS:
        value = meta_value(body, key)
        if value is not None:
            return str(value).strip().lower() in ("1", "yes", "true", "on")
    return None


def order_id_of(body: dict[str, Any]) -> str:
    """The order id as text; raises NotAnOrder when missing or odd."""
    raw = body.get("id")
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise NotAnOrder(f"the body has no order id, got {raw!r}")
    text = str(raw).strip()
    if not _ID_RE.match(text):
        raise NotAnOrder(f"the order id must be a short word or number, got {text[:40]!r}")
    return text


def _region(country: str | None, state: Any) -> str | None:
    state_code = _text(state, 8)
    if country and state_code and re.fullmatch(r"[A-Z0-9]{1,3}", state_code.upper()):
        return f"{country}-{state_code.upper()}"
    return None


def _customer(body: dict[str, Any], phone: str) -> Customer:
    billing = found if isinstance(found := body.get("billing"), dict) else {}
    name = (
        " ".join(
            p
            for p in (_text(billing.get("first_name"), 100), _text(billing.get("last_name"), 100))
            if p
        )
        or None
    )
    email = _text(billing.get("email"), 254)
    try:
        email = _EMAIL(email) if email else None
    except ValidationError:
        email = None  # a broken address must not cost the customer the SMS
    country = _country(billing)
    customer_id = body.get("customer_id")
    return Customer(
        phone=phone,
        name=name,
        region=_region(country, billing.get("state")),
        email=email,
        id=str(customer_id) if isinstance(customer_id, int) and customer_id > 0 else None,
    )


def _country(address: dict[str, Any]) -> str | None:
    country = _text(address.get("country"), 8)
    country = country.upper() if country else None
    return country if country in phonenumbers.SUPPORTED_REGIONS else None


def _data(body: dict[str, Any], topic: str, delivery: dict[str, Any]) -> dict[str, Any]:
    """Template data and the ids write-back needs later (the order id comes back to us)."""
    items = [
        {"name": _text(item.get("name")), "quantity": item.get("quantity")}
        for item in (body.get("line_items") or [])[:MAX_ITEMS]
        if isinstance(item, dict) and isinstance(item.get("quantity"), int)
    ]
    shipping = found if isinstance(found := body.get("shipping"), dict) else {}
    lines = [x for x in body.get("shipping_lines") or [] if isinstance(x, dict)]
    data: dict[str, Any] = {
        "order_id": order_id_of(body),
        "topic": topic,
        "items": items,
        "payment_method_title": _text(body.get("payment_method_title")),
        "shipping_method": _text(lines[0].get("method_title")) if lines else None,
        "shipping_city": _text(shipping.get("city"), 100),
        "marketing_consent": marketing_consent(body),
        "webhook_id": _text(delivery.get("webhook_id"), 40),
        "delivery_id": _text(delivery.get("delivery_id"), 80),
    }
    return {key: value for key, value in data.items() if value not in (None, [])}


def _order(body: dict[str, Any], order_id: str, status: str, previous: str | None) -> Order:
    currency = _text(body.get("currency"), 8)
    currency = currency.upper() if currency and re.fullmatch(r"[A-Za-z]{3}", currency) else None
    total = _decimal(body.get("total"))
    try:
        return Order(
            id=order_id,
            number=_text(body.get("number"), 64) or order_id,
            status=status,
            previous_status=previous,
            total=total,
            currency=currency if total is not None else None,
        )
    except ValueError:  # an odd currency or total: the status message still goes out
        return Order(
            id=order_id,
            number=_text(body.get("number"), 64) or order_id,
            status=status,
            previous_status=previous,
        )


def normalised_phone(body: dict[str, Any], default_region: str | None) -> str:
    """The billing phone in E.164, dialled from the billing country; raises PhoneError."""
    billing = found if isinstance(found := body.get("billing"), dict) else {}
    raw = _text(billing.get("phone"), 64)
    if not raw:
        shipping = found if isinstance(found := body.get("shipping"), dict) else {}
        raw = _text(shipping.get("phone"), 64)  # WooCommerce 5.6+ has a shipping phone
    if not raw:
        raise PhoneError("no_phone", "the order has no billing or shipping phone")
    return normalize_phone(raw, _country(billing) or default_region)


def plan_delivery(
    topic: str,
    body: dict[str, Any],
    account: str,
    last: Seen | None,
    default_region: str | None = None,
    delivery: dict[str, Any] | None = None,
) -> Plan:
    """Decide what one order delivery means (see the module docstring). Raises NotAnOrder."""
    order_id = order_id_of(body)
    plan = Plan(order_id=order_id)
    if topic == "order.deleted":
        plan.skips.append("order_deleted: the order was moved to the trash or deleted")
        return plan
    status = _text(body.get("status"), 64)
    status = status.lower().removeprefix("wc-") if status else None
    if not status or not _STATUS_RE.match(status):
        plan.skips.append(f"no_status: the order has no usable status, got {status!r}")
        return plan
    if status in DRAFT_STATUSES:
        plan.skips.append(f"draft: status {status!r} is not an order yet")
        return plan
    modified = _gmt(body.get("date_modified_gmt")) or _gmt(body.get("date_created_gmt"))
    created = _gmt(body.get("date_created_gmt")) or modified or datetime.now(UTC)
    modified = modified or created
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = last is not None and stamp < last.modified
    same = last is not None and last.status == status
    try:
        phone = normalised_phone(body, default_region)
    except PhoneError as exc:
        plan.skips.append(f"{exc.code}: {exc}")
        if not stale:  # remember the status anyway, so the next change has its previous one
            plan.seen = Seen(status, stamp)
        return plan
    source = Source(PLATFORM, account)
    slug = store_slug(account)
    customer = _customer(body, phone)
    data = _data(body, topic, delivery or {})
    cart_id = _text(meta_value(body, CART_META_KEY), 64)
    cart = Cart(id=cart_id) if cart_id and _ID_RE.match(cart_id) else None
    if topic == "order.created":
        plan.events.append(
            Event(
                event_id=f"woo-{slug}-{order_id}-created",
                type="order.created",
                occurred_at=created,
                source=source,
                customer=customer,
                order=_order(body, order_id, status, None),
                cart=cart,
                data=data,
            )
        )
    if stale and last is not None:
        plan.skips.append(f"stale: modified {stamp} is older than {last.modified} already seen")
    elif same:
        plan.skips.append(f"status_unchanged: still {status!r}")
        plan.seen = Seen(status, stamp)
    else:
        plan.events.append(
            Event(
                event_id=f"woo-{slug}-{order_id}-{status}",
                type="order.status_changed",
                occurred_at=modified,
                source=source,
                customer=customer,
                order=_order(body, order_id, status, last.status if last else None),
                cart=cart,
                data=data,
            )
        )
        plan.seen = Seen(status, stamp)
    return plan
