"""A mailing's results: sent, delivered, clicked, orders, revenue, cost, per A/B variant.

One grouped query per table (messages, clicks, attributions), keyed by the template version
each message was planned with, which is how a message's variant is known. Rates carry Wilson
95 % intervals (`relay.growth.ab.wilson`): clicks per delivered message (per sent message when
the gateway gives no receipts), orders per delivered message.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.growth.ab import LETTERS, variant_names, wilson
from relay.messages.lifecycle import MessageStatus
from relay.storage.models import Attribution, Campaign, Click, Flow, Message, Template

_S = MessageStatus
SENT = (_S.SENT, _S.DELIVERED, _S.READ, _S.UNDELIVERED, _S.UNKNOWN)
DELIVERED = (_S.DELIVERED, _S.READ)


@dataclass
class Figures:
    """The counts of one variant (or of the whole mailing)."""

    messages: int = 0
    sent: int = 0
    delivered: int = 0
    clicked: int = 0  # messages with at least one counted click
    clicks: int = 0
    orders: int = 0
    carts_recovered: int = 0
    revenue: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    currencies: set[str] = field(default_factory=set)

    def add(self, other: Figures) -> None:
        """Add another variant's figures to these."""
        for name in ("messages", "sent", "delivered", "clicked", "clicks", "orders",
                     "carts_recovered", "revenue", "cost"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.currencies |= other.currencies

    def view(self) -> dict[str, Any]:
        """The API form: money as strings, rates with their intervals."""
        base = self.delivered or self.sent
        per_1000 = (
            (self.revenue * 1000 / self.sent).quantize(Decimal("0.01")) if self.sent else None
        )
        return {
            "messages": self.messages,
            "sent": self.sent,
            "delivered": self.delivered,
            "clicked": self.clicked,
            "clicks": self.clicks,
            "orders": self.orders,
            "carts_recovered": self.carts_recovered,
            "revenue": str(self.revenue.quantize(Decimal("0.01"))),
            "cost": str(self.cost.quantize(Decimal("0.01"))),
            "currency": ",".join(sorted(self.currencies)) or None,
            "revenue_per_1000": None if per_1000 is None else str(per_1000),
            "click_rate": _rate(self.clicked, base),
            "conversion_rate": _rate(self.orders, base),
        }


def _rate(successes: int, trials: int) -> dict[str, Any] | None:
    if not trials:
        return None
    interval = wilson(successes, trials)
    assert interval is not None  # trials > 0
    return {
        "value": round(successes / trials, 4),
        "low": round(interval[0], 4),
        "high": round(interval[1], 4),
    }


def campaign_results(session: Session, c: Campaign) -> dict[str, Any]:
    """The mailing's totals and, for an A/B test, each variant's figures."""
    names = variant_names(c.template, c.variants)
    by_template: dict[int | None, Figures] = defaultdict(Figures)
    name_of: dict[int, str] = dict(
        session.execute(
            select(Template.id, Template.name)
            .join(Message, Message.template_id == Template.id)
            .where(Message.campaign_id == c.id)
            .distinct()
        ).all()
    )
    for row in session.execute(
        select(
            Message.template_id,
            Message.status,
            Message.currency,
            func.count(),
            func.coalesce(func.sum(Message.cost), 0),
        )
        .where(Message.tenant_id == c.tenant_id, Message.campaign_id == c.id)
        .group_by(Message.template_id, Message.status, Message.currency)
    ):
        f = by_template[row[0]]
        status, count = row[1], int(row[3])
        if status == _S.BLOCKED:
            continue
        f.messages += count
        if status in SENT:
            f.sent += count
            f.cost += Decimal(row[4] or 0)
            if row[2]:
                f.currencies.add(row[2])
        if status in DELIVERED:
            f.delivered += count
    for template_id, clicked, clicks in session.execute(
        select(Message.template_id, func.count(func.distinct(Click.message_id)), func.count())
        .join(Message, Message.id == Click.message_id)
        .where(Click.campaign_id == c.id, Click.tenant_id == c.tenant_id)
        .group_by(Message.template_id)
    ):
        by_template[template_id].clicked += int(clicked)
        by_template[template_id].clicks += int(clicks)
    for template_id, kind, count, revenue in session.execute(
        select(
            Message.template_id,
            Attribution.kind,
            func.count(),
            func.coalesce(func.sum(Attribution.revenue), 0),
        )
        .join(Message, Message.id == Attribution.message_id)
        .where(Attribution.campaign_id == c.id, Attribution.tenant_id == c.tenant_id)
        .group_by(Message.template_id, Attribution.kind)
    ):
        f = by_template[template_id]
        if kind == "cart":
            f.carts_recovered += int(count)
        else:
            f.orders += int(count)
        f.revenue += Decimal(revenue or 0)
    variants: dict[str, Figures] = {name: Figures() for name in names}
    total = Figures()
    for template_id, figures in by_template.items():
        name = name_of.get(template_id or -1)
        variants.setdefault(name or "?", Figures()).add(figures)
        total.add(figures)
    out: dict[str, Any] = {"campaign_id": c.id, "total": total.view(), "variants": []}
    if len(names) > 1:
        out["variants"] = [
            {"variant": LETTERS[i], "template": name, **variants[name].view()}
            for i, name in enumerate(names)
        ]
        out["test_share"] = c.test_share
        out["winner"] = c.winner
    return out


def flow_results(
    session: Session, tenant_id: str, after_id: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of the tenant's flows (by id) with their figures; and the last id when more
    may follow. Flow texts keep their links as written, so clicks stay 0 and orders are
    credited after delivery (abandoned carts recovered, most of all)."""
    stmt = select(Flow.id, Flow.name, Flow.trigger).where(Flow.tenant_id == tenant_id)
    if after_id is not None:
        stmt = stmt.where(Flow.id > after_id)
    flows = session.execute(stmt.order_by(Flow.id).limit(limit + 1)).all()
    more = len(flows) > limit
    flows = flows[:limit]
    ids = [f.id for f in flows]
    figures: dict[int | None, Figures] = defaultdict(Figures)
    if ids:
        for flow_id, status, currency, count, cost in session.execute(
            select(
                Message.flow_id,
                Message.status,
                Message.currency,
                func.count(),
                func.coalesce(func.sum(Message.cost), 0),
            )
            .where(Message.tenant_id == tenant_id, Message.flow_id.in_(ids))
            .group_by(Message.flow_id, Message.status, Message.currency)
        ):
            f = figures[flow_id]
            if status == _S.BLOCKED:
                continue
            f.messages += int(count)
            if status in SENT:
                f.sent += int(count)
                f.cost += Decimal(cost or 0)
                if currency:
                    f.currencies.add(currency)
            if status in DELIVERED:
                f.delivered += int(count)
        for flow_id, kind, count, revenue in session.execute(
            select(
                Attribution.flow_id,
                Attribution.kind,
                func.count(),
                func.coalesce(func.sum(Attribution.revenue), 0),
            )
            .where(Attribution.tenant_id == tenant_id, Attribution.flow_id.in_(ids))
            .group_by(Attribution.flow_id, Attribution.kind)
        ):
            f = figures[flow_id]
            if kind == "cart":
                f.carts_recovered += int(count)
            else:
                f.orders += int(count)
            f.revenue += Decimal(revenue or 0)
    items = [{"flow": f.name, "trigger": f.trigger, **figures[f.id].view()} for f in flows]
    return items, (ids[-1] if more and ids else None)
