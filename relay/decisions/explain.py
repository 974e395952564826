"""What the policy would decide for a number at a time, with every reason — the use case of
POST /v1/policy/explain and of the cabinet's Explain page, through the one decision path
(`decide_for`). Sends nothing, stores nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from relay.decisions.decide_batch import Planned, decide_for


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
    [outcome] = decide_for(
        session,
        tenant,
        [
            Planned(
                phone=phone,
                category=category,
                channel=channel,
                text=str(text or "STOP"),
                sender=sender,
                urgent=urgent,
                timezone=timezone,
                region=region,
            )
        ],
        at,
    )
    assert outcome.decision is not None  # no `unsendable` given, so the policy decided
    out = outcome.decision.to_dict()
    out["phone"] = phone
    return out
