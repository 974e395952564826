"""Intake: a validated event becomes recorded decisions, in one transaction.

The new messages' ids go to the session's outbox; they reach the queue only once the caller
has committed: a crash between the two leaves rows the sweeper will find, never a queued id
without its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from relay.decisions.decide_batch import Planned, decide_for
from relay.errors import RelayError
from relay.intake.events_store import insert_event_once
from relay.intake.flows import lookup, plan_from_flows
from relay.messages.lifecycle import CLAIMABLE, MessageStatus, NewMessage, set_status
from relay.messages.messages import PlannedMessage, apply_segments, message_summary, new_message
from relay.storage.models import ConsentRecord, Event, Message, Tenant
from relay.tenancy.settings import tenant_policy
from relay.tenancy.tenant_cache import TENANT_CONFIG, TenantConfig
from relay.tenancy.tenant_phones import tenant_phone
from shared.events import EVENT_TYPES, canonical_hash, event_from_wire, event_to_wire


@dataclass
class IntakeResult:
    """What the API answers (the queue hears of the messages from the session's outbox)."""

    status: int
    body: dict[str, Any]


def parse_event(wire: Any) -> Any:
    """Validate the wire JSON into an Event or raise a RelayError with field errors."""
    if not isinstance(wire, dict):
        raise RelayError("invalid_body", "the body must be a JSON object", 400)
    etype = wire.get("type")
    if etype not in EVENT_TYPES:
        raise RelayError(
            "unknown_event_type",
            f"unknown event type {etype!r}; expected one of: {', '.join(EVENT_TYPES)}",
            422,
            {"type": [f"must be one of {list(EVENT_TYPES)}"]},
        )
    try:
        return event_from_wire(wire)
    except ValidationError as exc:
        raise RelayError(
            "validation_error", "the event is not valid: see fields", 422, exc.normalized_messages()
        ) from exc


def _duplicate(session: Session, existing: Event, payload_hash: str) -> IntakeResult:
    if existing.payload_hash != payload_hash:
        raise RelayError(
            "event_id_conflict",
            f"event_id {existing.event_id!r} was already used with a different body",
            409,
            {"event_id": ["already used with a different body"]},
        )
    msgs = session.scalars(
        select(Message).where(Message.event_pk == existing.id).order_by(Message.created_at)
    )
    return IntakeResult(
        200,
        {
            "event_id": existing.event_id,
            "duplicate": True,
            "messages": [message_summary(m) for m in msgs],
        },
    )


def submit_event(session: Session, tenant: Tenant, wire: Any, now: datetime) -> IntakeResult:
    """Validate, dedupe, record consent, cancel, expand flows, decide and write messages."""
    event = parse_event(wire)
    payload_hash = canonical_hash(wire)
    if tenant.status != "active":
        raise RelayError("tenant_disabled", "this tenant is disabled", 403)

    data = event_to_wire(event)
    phone = _normalised_phone(tenant, data)
    if phone is not None:
        data["customer"]["phone"] = phone

    row = insert_event_once(session, tenant.id, event, data, payload_hash, now)
    if row is None:
        # a concurrent request with the same event_id won the race: answer as a duplicate
        existing = session.scalars(
            select(Event).where(Event.tenant_id == tenant.id, Event.event_id == event.event_id)
        ).one()
        return _duplicate(session, existing, payload_hash)
    config = TENANT_CONFIG.get(session, tenant.id)

    if event.type in ("consent.granted", "consent.revoked") and phone:
        _record_consent(session, tenant, row, data, phone, now)
    _cancel_pending(session, tenant, config, event.type, data, phone, now)

    planned = _plan(config, event.type, data, phone)
    messages = _decide_and_write(session, tenant, config, row, data, planned, now)
    return IntakeResult(
        202,
        {
            "event_id": event.event_id,
            "duplicate": False,
            "messages": [message_summary(m) for m in messages],
        },
    )


def _normalised_phone(tenant: Tenant, data: dict[str, Any]) -> str | None:
    return tenant_phone(tenant, lookup(data, "customer.phone"), "customer.phone", required=False)


def _record_consent(
    session: Session, tenant: Tenant, row: Any, data: dict[str, Any], phone: str, now: datetime
) -> None:
    consent = data["consent"]
    captured = row.occurred_at if not consent.get("captured_at") else _event_time(consent)
    session.add(
        ConsentRecord(
            tenant_id=tenant.id,
            phone=phone,
            purpose=consent.get("purpose") or "marketing",
            channel=consent.get("channel") or "all",
            granted=bool(consent.get("granted")),
            source=consent.get("source") or "crm_field",
            wording=consent.get("wording"),
            ip=consent.get("ip"),
            user_agent=consent.get("user_agent"),
            captured_at=captured,
            recorded_at=now,
            event_pk=row.id,
        )
    )


def _event_time(consent: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(consent["captured_at"])


def _cancel_pending(
    session: Session,
    tenant: Tenant,
    config: TenantConfig,
    etype: str,
    data: dict[str, Any],
    phone: str | None,
    now: datetime,
) -> None:
    """Cancel still-pending messages of flows this event type cancels (e.g. a recovered cart)."""
    for flow in config.flows_cancelled_by(etype):
        conds = (
            [Message.cancel_key == f"{flow.id}:{lookup(data, flow.cancel_key)}"]
            if (flow.cancel_key and lookup(data, flow.cancel_key) not in (None, ""))
            else []
        )
        if phone:
            # the same customer ordering also ends the reminder when no cart id is given
            conds.append(Message.phone == phone)
        if not conds:
            continue
        ids = session.scalars(
            select(Message.id).where(
                Message.tenant_id == tenant.id,
                Message.flow_id == flow.id,
                Message.status.in_(CLAIMABLE),
                or_(*conds),
            )
        ).all()
        if ids:
            detail = f"cancelled by {etype}"
            set_status(
                session,
                ids,
                now,
                to=MessageStatus.CANCELLED,
                only_from=CLAIMABLE,
                detail=detail,
                values={"reason": None, "reason_detail": detail},
            )


def _plan(
    config: TenantConfig, etype: str, data: dict[str, Any], phone: str | None
) -> list[PlannedMessage]:
    if etype == "message.requested":
        m = data["message"]
        return [
            PlannedMessage(
                phone=phone or "",
                channel=m.get("channel") or "sms",
                category=m.get("category") or "transactional",
                text=m["text"],
                sender=m.get("sender"),
                viber=m.get("viber"),
                fallback_text=m.get("fallback_text"),
            )
        ]
    return plan_from_flows(config, etype, data, phone)


def _decide_and_write(
    session: Session,
    tenant: Tenant,
    config: TenantConfig,
    row: Any,
    data: dict[str, Any],
    planned: list[PlannedMessage],
    now: datetime,
) -> list[Message]:
    if not planned:
        return []
    policy = tenant_policy(tenant, config.sender_names)
    tariffs = (tenant.settings or {}).get("tariffs")
    zone, region = lookup(data, "customer.timezone"), lookup(data, "customer.region")
    context = {
        "source": data.get("source"),
        "order": data.get("order"),
        "cart": data.get("cart"),
        "customer": {
            "region": region,
            "timezone": zone,
            "id": lookup(data, "customer.id"),
            "name": lookup(data, "customer.name"),
        },
        "data": data.get("data"),
        "event_id": row.event_id,
        "event_type": data.get("type"),
    }
    written = [new_message(tenant.id, row.id, plan, context, now) for plan in planned]
    outcomes = decide_for(
        session,
        tenant,
        [
            Planned(
                phone=plan.phone,
                category=plan.category,
                channel=plan.channel,
                text=plan.text,
                sender=plan.sender,
                urgent=plan.urgent,
                at=now + plan.delay,
                timezone=zone,
                region=region,
                message_id=msg.id,
                unsendable=plan.render_error,
            )
            for plan, msg in zip(planned, written, strict=True)
        ],
        now,
        policy=policy,
    )
    new: list[NewMessage] = []
    for msg, outcome in zip(written, outcomes, strict=True):
        if outcome.decision is not None:
            msg.text, msg.timezones = outcome.text, list(outcome.timezones)
        if outcome.status is MessageStatus.SCHEDULED:
            msg.not_before = outcome.not_before
        apply_segments(msg, tariffs)
        new.append(NewMessage(msg, outcome.status, outcome.reason, outcome.detail))
    # one multi-row INSERT for the messages and one for their history: every event's hot path
    set_status(session, new, now)
    return written
