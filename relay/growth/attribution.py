"""Orders credited to messages: the last click within the click window, else the last
delivery within the delivery window (tenant settings `attribution`, default 3 days and 1 day).

The worker's periodic loop reads new order and recovered-cart events after a cursor
(`attribute_new_events`), so intake stays as it is and a late run changes nothing: every
window is measured back from the event's own `occurred_at`. Each order is credited once (the
unique order key), to a marketing message only — an "order accepted" message is caused by
the order, it does not cause it.

An order counts when its platform says it is won: WooCommerce `processing` or `completed`,
a Bitrix24 deal in a `WON` stage (`WON`, `C3:WON`), an amoCRM lead in status 142 (the fixed
"won" status of every amoCRM pipeline), and for events posted by the API `paid`, `won`,
`processing` or `completed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus
from relay.storage.models import (
    Attribution,
    Click,
    Event,
    GrowthCursor,
    Message,
    MessageHistory,
    Tenant,
)
from relay.tenancy.settings import attribution_windows

CURSOR = "attribution"
BATCH = 500
ORDER_TYPES = ("order.created", "order.status_changed")
WON = {
    "woocommerce": {"processing", "completed"},
    "amocrm": {"142"},
}
SETTLE = timedelta(seconds=30)
API_WON = {"paid", "won", "processing", "completed"}


def is_won(platform: str | None, status: str | None) -> bool:
    """Whether an order status means a sale on its platform."""
    if not status:
        return False
    if platform == "bitrix24":
        return status == "WON" or status.endswith(":WON")
    return status in WON.get(platform or "", API_WON)


@dataclass(frozen=True, slots=True)
class Sale:
    """What an event says was bought."""

    kind: str  # "order" | "cart"
    key: str
    phone: str
    at: datetime
    revenue: Decimal | None
    currency: str | None


def _money(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def sale_of(event_type: str, payload: dict[str, Any], occurred_at: datetime) -> Sale | None:
    """The sale an event reports, if any."""
    phone = (payload.get("customer") or {}).get("phone")
    if not isinstance(phone, str) or not phone.startswith("+"):
        return None
    source = payload.get("source") or {}
    where = f"{source.get('platform') or 'api'}:{source.get('account') or ''}"
    if event_type in ORDER_TYPES:
        order = payload.get("order") or {}
        if not is_won(source.get("platform"), order.get("status")):
            return None
        key = f"order:{where}:{order.get('id')}"
        return Sale("order", key[:200], phone, occurred_at, _money(order.get("total")),
                    order.get("currency"))  # fmt: skip
    if event_type == "cart.recovered":
        cart = payload.get("cart") or {}
        key = f"cart:{where}:{cart.get('id')}"
        return Sale("cart", key[:200], phone, occurred_at, _money(cart.get("total")),
                    cart.get("currency"))  # fmt: skip
    return None


def _credited(
    session: Session, tenant: Tenant, sale: Sale
) -> tuple[str, str, int | None, int | None] | None:
    """(message id, via, campaign id, flow id) of the message the sale is credited to."""
    click_window, delivery_window = attribution_windows(tenant)
    mine = (
        Message.tenant_id == tenant.id,
        Message.phone == sale.phone,
        Message.category == "marketing",
    )
    clicked = session.execute(
        select(Message.id, Message.campaign_id, Message.flow_id)
        .join(Click, Click.message_id == Message.id)
        .where(*mine, Click.at <= sale.at, Click.at >= sale.at - click_window)
        .order_by(Click.at.desc())
        .limit(1)
    ).first()
    if clicked is not None:
        return clicked.id, "click", clicked.campaign_id, clicked.flow_id
    delivered = session.execute(
        select(Message.id, Message.campaign_id, Message.flow_id)
        .join(MessageHistory, MessageHistory.message_id == Message.id)
        .where(
            *mine,
            MessageHistory.status.in_((MessageStatus.DELIVERED, MessageStatus.READ)),
            MessageHistory.at <= sale.at,
            MessageHistory.at >= sale.at - delivery_window,
        )
        .order_by(MessageHistory.at.desc())
        .limit(1)
    ).first()
    if delivered is not None:
        return delivered.id, "delivery", delivered.campaign_id, delivered.flow_id
    return None


def attribute_new_events(
    session: Session, now: datetime, limit: int = BATCH, settle: timedelta = SETTLE
) -> int:
    """Credit the sales of events after the cursor; returns how many were credited.

    Only events received `settle` ago or earlier are read: ids are handed out before commit,
    so a younger event with a smaller id may still be committing and would be skipped.
    """
    cursor = session.get(GrowthCursor, CURSOR)
    if cursor is None:
        cursor = GrowthCursor(name=CURSOR, position=0)
        session.add(cursor)
        session.flush()
    rows = session.execute(
        select(Event.id, Event.tenant_id, Event.type, Event.payload, Event.occurred_at)
        .where(Event.id > cursor.position, Event.received_at <= now - settle)
        .order_by(Event.id)
        .limit(limit)
    ).all()
    credited = 0
    tenants: dict[str, Tenant | None] = {}
    for row in rows:
        sale = sale_of(row.type, row.payload or {}, row.occurred_at)
        if sale is None:
            continue
        tenant = tenants.get(row.tenant_id) or session.get(Tenant, row.tenant_id)
        tenants[row.tenant_id] = tenant
        if tenant is None:
            continue
        exists = session.scalar(
            select(Attribution.id).where(
                Attribution.tenant_id == tenant.id, Attribution.order_key == sale.key
            )
        )
        if exists is not None:
            continue
        found = _credited(session, tenant, sale)
        if found is None:
            continue
        message_id, via, campaign_id, flow_id = found
        session.add(
            Attribution(
                tenant_id=tenant.id,
                order_key=sale.key,
                kind=sale.kind,
                via=via,
                message_id=message_id,
                campaign_id=campaign_id,
                flow_id=flow_id,
                event_pk=row.id,
                revenue=sale.revenue,
                currency=sale.currency,
                occurred_at=sale.at,
                created_at=now,
            )
        )
        session.flush()
        credited += 1
    if rows:
        cursor.position = rows[-1].id
    session.commit()
    return credited


def attribute_all(session: Session, now: datetime, settle: timedelta = SETTLE) -> int:
    """Run the scan until it has caught up with the events table."""
    total = 0
    while True:
        found = session.get(GrowthCursor, CURSOR)
        before = found.position if found is not None else -1
        total += attribute_new_events(session, now, settle=settle)
        after = session.get(GrowthCursor, CURSOR, populate_existing=True)
        if after is None or after.position == before:
            return total
