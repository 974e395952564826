"""Expanding an event through a tenant's flows into planned messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.content.templates import TemplateRenderError, render
from relay.messages.messages import PlannedMessage
from relay.storage.models import Template
from relay.tenancy.tenant_cache import TenantConfig


def lookup(data: dict[str, Any], path: str) -> Any:
    """Follow a dotted path (`order.status`) through nested dicts; None when absent."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def matches(conditions: dict[str, Any], data: dict[str, Any]) -> bool:
    """True when every condition holds; a list value means "any of these"."""
    for path, wanted in (conditions or {}).items():
        value = lookup(data, path)
        if isinstance(wanted, list):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def cancel_key_for(flow: Any, data: dict[str, Any]) -> str | None:
    """The key that ties a flow's message to the thing a later event cancels (e.g. a cart)."""
    if not flow.cancel_key:
        return None
    value = lookup(data, flow.cancel_key)
    return None if value in (None, "") else f"{flow.id}:{value}"


def latest_templates(session: Session, tenant_id: str, names: set[str]) -> dict[str, Template]:
    """The newest version of each named template."""
    found: dict[str, Template] = {}
    if not names:
        return found
    rows = session.scalars(
        select(Template)
        .where(Template.tenant_id == tenant_id, Template.name.in_(names))
        .order_by(Template.name, Template.version)
    )
    for tpl in rows:
        found[tpl.name] = tpl  # ordered by version: the last one wins
    return found


def plan_from_flows(
    config: TenantConfig, event_type: str, data: dict[str, Any], phone: str | None
) -> list[PlannedMessage]:
    """Every message the tenant's enabled flows make of this event."""
    if phone is None:
        return []
    return [
        _plan_one(flow, config.templates.get(flow.template), data, phone)
        for flow in config.flows_for(event_type)
        if matches(flow.conditions, data)
    ]


def _plan_one(flow: Any, tpl: Any, data: dict[str, Any], phone: str) -> PlannedMessage:
    channels = list(flow.channels or ["sms"])
    first = channels[0]
    msg = PlannedMessage(
        phone=phone,
        channel=first,
        category=flow.category,
        text="",
        urgent=flow.urgent,
        delay=timedelta(seconds=flow.delay_seconds),
        flow_id=flow.id,
        cancel_key=cancel_key_for(flow, data),
    )
    if getattr(flow, "survey_id", None):
        msg.extra["survey_id"] = flow.survey_id
    if tpl is None:
        msg.render_error = f"flow {flow.name!r} names a missing template {flow.template!r}"
        return msg
    msg.template_id, msg.sender = tpl.id, tpl.sender
    try:
        source = (tpl.viber_text or tpl.sms_text) if first == "viber" else tpl.sms_text
        msg.text = render(source or "", data)
        if first == "viber":
            msg.viber = tpl.viber
            if "sms" in channels[1:] and tpl.sms_text:
                msg.fallback_text = render(tpl.sms_text, data)
    except TemplateRenderError as exc:
        msg.render_error = str(exc)
    if not msg.text and not msg.render_error:
        msg.render_error = f"template {tpl.name!r} renders to an empty text"
    return msg
