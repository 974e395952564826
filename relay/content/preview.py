"""Preview: render a text or template with sample data and count it; sends nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from relay.content.templates import TemplateRenderError, render
from relay.errors import RelayError
from relay.intake.flows import latest_templates
from relay.messages.cost import price_for_tenant
from relay.storage.models import Tenant
from relay.tenancy.tenant_phones import tenant_phone
from shared.segments import count_segments


def preview_message(session: Session, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """The text after rendering, its encoding, segments, parts and characters."""
    channel = body.get("channel", "sms")
    if channel not in ("sms", "viber"):
        raise RelayError(
            "invalid_channel", "channel must be sms or viber", 422, {"channel": ["sms or viber"]}
        )
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise RelayError("invalid_body", "'data' must be an object", 422, {"data": ["object"]})
    if body.get("template"):
        tpl = latest_templates(session, tenant.id, {str(body["template"])}).get(body["template"])
        if tpl is None:
            raise RelayError("template_not_found", f"no template {body['template']!r}", 404)
        source = (tpl.viber_text or tpl.sms_text) if channel == "viber" else tpl.sms_text
    elif isinstance(body.get("text"), str):
        source = body["text"]
    else:
        raise RelayError(
            "invalid_body",
            "send 'text' or 'template'",
            422,
            {"text": ["text or template required"]},
        )
    try:
        text = render(source or "", data)
    except TemplateRenderError as exc:
        raise RelayError("template_error", str(exc), 422, {"text": [str(exc)]}) from exc
    info = count_segments(text)
    segments = info.segments if channel == "sms" else 1
    phone = tenant_phone(tenant, body.get("phone"), "phone", required=False)
    price = price_for_tenant(tenant, phone, channel, segments)
    return {
        "text": text,
        "channel": channel,
        "encoding": info.encoding,
        "segments": info.segments if channel == "sms" else 1,
        "characters": info.characters,
        "parts": list(info.parts) if channel == "sms" else [text],
        "cost": str(price.cost),
        "currency": price.currency,
        "price_basis": price.basis,
    }
