"""Schemas of relay.api.events: the event on the wire, one OpenAPI schema per event type.

The wire schema itself is shared.events.EventSchema (what the intake loads). What each type
requires on top of it (blocks, and fields inside them) is derived here from
shared.event_model.requirement_errors, the same rule the intake applies, so the document and
the code cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from relay.api.schemas.messages import MessageDecisionSchema
from shared.event_model import (
    EVENT_TYPES,
    Cart,
    Consent,
    Customer,
    MessageRequest,
    Order,
    requirement_errors,
)
from shared.events import EventSchema

AT = "2026-11-22T18:04:05+03:00"
CUSTOMER = {"phone": "+375291234567", "name": "Анна"}
SOURCE = {"platform": "woocommerce", "account": "shop.example.by"}

# A valid example of each type (a test posts every one of them and expects 202).
EXAMPLES: dict[str, dict[str, Any]] = {
    "order.created": {
        "event_id": "woo-727-created",
        "type": "order.created",
        "occurred_at": AT,
        "source": SOURCE,
        "customer": CUSTOMER,
        "order": {
            "id": "727",
            "number": "727",
            "status": "pending",
            "total": "29.35",
            "currency": "BYN",
        },
    },
    "order.status_changed": {
        "event_id": "woo-727-processing",
        "type": "order.status_changed",
        "occurred_at": AT,
        "source": SOURCE,
        "customer": CUSTOMER,
        "order": {
            "id": "727",
            "number": "727",
            "status": "processing",
            "previous_status": "pending",
            "total": "29.35",
            "currency": "BYN",
        },
    },
    "cart.abandoned": {
        "event_id": "woo-cart-91-abandoned",
        "type": "cart.abandoned",
        "occurred_at": AT,
        "customer": CUSTOMER,
        "cart": {
            "id": "91",
            "total": "54.00",
            "currency": "BYN",
            "url": "https://shop.example.by/cart/91",
        },
    },
    "cart.recovered": {
        "event_id": "woo-cart-91-recovered",
        "type": "cart.recovered",
        "occurred_at": AT,
        "cart": {"id": "91"},
    },
    "consent.granted": {
        "event_id": "woo-consent-1",
        "type": "consent.granted",
        "occurred_at": AT,
        "customer": CUSTOMER,
        "consent": {
            "granted": True,
            "source": "checkout_checkbox",
            "wording": "Согласен получать SMS об акциях. Отказ: STOP на 7020",
        },
    },
    "consent.revoked": {
        "event_id": "woo-consent-2",
        "type": "consent.revoked",
        "occurred_at": AT,
        "customer": CUSTOMER,
        "consent": {"granted": False, "source": "crm_field"},
    },
    "message.requested": {
        "event_id": "crm-msg-1",
        "type": "message.requested",
        "occurred_at": AT,
        "customer": CUSTOMER,
        "message": {"text": "Ваш заказ 727 готов к выдаче", "category": "transactional"},
    },
    "customer.birthday": {
        "event_id": "crm-bday-2026-anna",
        "type": "customer.birthday",
        "occurred_at": AT,
        "customer": {**CUSTOMER, "birthday": "1990-11-22"},
    },
}


def component_name(event_type: str) -> str:
    """`order.status_changed` → `OrderStatusChangedEvent`."""
    words = event_type.replace(".", "_").split("_")
    return "".join(w.capitalize() for w in words) + "Event"


def _granted_values(event_type: str) -> list[bool]:
    return [
        value
        for value in (True, False)
        if "granted"
        not in (
            requirement_errors(event_type, None, None, None, Consent(granted=value), None).get(
                "consent"
            )
            or {}
        )
    ]


def per_type_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type: the wire Event plus what this type requires."""
    absent = requirement_errors(event_type, None, None, None, None, None)
    present = requirement_errors(
        event_type,
        Customer(),
        Order(id="1"),
        Cart(id="1"),
        Consent(granted=True),
        MessageRequest(text="x"),
    )
    properties: dict[str, Any] = {"type": {"type": "string", "enum": [event_type]}}
    for block, problems in present.items():
        wanted = sorted(p for p in problems if p != "granted") if isinstance(problems, dict) else []
        if wanted:
            properties[block] = {"required": wanted}
    if event_type.startswith("consent."):
        consent = properties.setdefault("consent", {})
        consent["properties"] = {
            "granted": {"type": "boolean", "enum": _granted_values(event_type)}
        }
    return {
        "description": f"A `{event_type}` event: requires "
        + ", ".join(f"`{b}`" for b in ["event_id", "type", "occurred_at", *sorted(absent)])
        + ".",
        "allOf": [
            {"$ref": "#/components/schemas/Event"},
            {"type": "object", "required": sorted(absent), "properties": properties},
        ],
        "example": EXAMPLES[event_type],
    }


COMPONENTS: dict[str, Any] = {"Event": EventSchema}
COMPONENTS.update({component_name(t): per_type_schema(t) for t in EVENT_TYPES})

EVENT_BODY: dict[str, Any] = {
    "oneOf": [{"$ref": f"#/components/schemas/{component_name(t)}"} for t in EVENT_TYPES],
    "discriminator": {
        "propertyName": "type",
        "mapping": {t: f"#/components/schemas/{component_name(t)}" for t in EVENT_TYPES},
    },
}


class EventAcceptedSchema(Schema):
    """202: the event and one decision per message it made; 200 with `duplicate: true` and
    the original messages when the event_id was seen before (nothing is sent again). While
    the database is down: 202 with `status: accepted`, `spooled: true` and the event_id only."""

    event_id = fields.String()
    duplicate = fields.Boolean()
    messages = fields.List(fields.Nested(MessageDecisionSchema))
    # only while the database is down: 202 {"status": "accepted", "spooled": true, "event_id"}
    # — kept in the intake spool and decided when replayed (docs/api.md, 'Events')
    status = fields.String(metadata={"enum": ["accepted"]})
    spooled = fields.Boolean()
