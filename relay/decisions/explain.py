"""What the policy would decide for a number at a time, with every reason — the use case of
POST /v1/policy/explain and of the cabinet's Explain page. Sends nothing, stores nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relay.decisions.facts import RecipientContext, active_sender_names, load_facts
from relay.policy import PolicyMessage, decide
from relay.tenancy.settings import tenant_policy


def explain_decision(
    session: Session,
    tenant: Any,
    phone: str,
    at: datetime,
    *,
    category: str = "transactional",
    channel: str = "sms",
    text: str | None = None,
    sender: str | None = None,
    urgent: bool = False,
    timezone: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """The decision document: decision, reasons [{code, detail}], not_before, timezones,
    timezone_source and the phone (already E.164 for the tenant)."""
    policy = tenant_policy(tenant, active_sender_names(session, tenant.id))
    facts = load_facts(session, tenant.id, [phone], at, policy.frequency_window.days)
    ctx = RecipientContext(explicit_timezone=timezone, region=region)
    decision = decide(
        PolicyMessage(
            phone=phone,
            category=category,
            channel=channel,
            text=str(text or "STOP"),
            sender=sender,
            urgent=urgent,
        ),
        facts.for_phone(phone, ctx),
        policy,
        at,
    )
    out = decision.to_dict()
    out["phone"] = phone
    return out
