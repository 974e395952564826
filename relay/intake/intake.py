"""Intake: a validated event becomes recorded decisions, in one transaction.

The caller commits and only then puts the ids on the queue (outbox): a crash between the two
leaves rows the sweeper will find, never a queued id without its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from relay.decisions.facts import RecipientContext, load_facts
from relay.errors import RelayError
from relay.intake.events_store import insert_event_once
from relay.intake.flows import lookup, plan_from_flows
from relay.messages.messages import PlannedMessage, apply_segments, message_summary, new_message
from relay.messages.states import note_platforms, record_history
from relay.policy import BLOCK, DEFER, PolicyMessage, decide
from relay.storage.models import CLAIMABLE, ConsentRecord, Event, Message, Tenant
from relay.tenancy.settings import tenant_policy
from relay.tenancy.tenant_cache import TENANT_CONFIG, TenantConfig
from relay.tenancy.tenant_phones import tenant_phone
from shared.events import EVENT_TYPES, canonical_hash, event_from_wire, event_to_wire


@dataclass
class IntakeResult:
    """What the API answers, and which messages to put on the queue after commit."""

    status: int
    body: dict[str, Any]
    dispatch: list[tuple[str, datetime | None]] = field(default_factory=list)


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
        existing = session.scalar(
            select(Event).where(Event.tenant_id == tenant.id, Event.event_id == event.event_id)
        )
        return _duplicate(session, existing, payload_hash)
    config = TENANT_CONFIG.get(session, tenant.id)

    if event.type in ("consent.granted", "consent.revoked") and phone:
        _record_consent(session, tenant, row, data, phone, now)
    _cancel_pending(session, tenant, config, event.type, data, phone, now)

    planned = _plan(config, event.type, data, phone)
    messages = _decide_and_write(session, tenant, config, row, data, planned, now)
    dispatch = [(m.id, m.not_before) for m in messages if m.status in CLAIMABLE]
    return IntakeResult(
        202,
        {
            "event_id": event.event_id,
            "duplicate": False,
            "messages": [message_summary(m) for m in messages],
        },
        dispatch,
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
            session.execute(
                update(Message)
                .where(Message.id.in_(ids), Message.status.in_(CLAIMABLE))
                .values(status="cancelled", reason=None, reason_detail=detail, updated_at=now)
            )
            record_history(session, [(i, "cancelled", None, detail) for i in ids], now)


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
    facts = load_facts(
        session,
        tenant.id,
        {p.phone for p in planned},
        now,
        window_days=policy.frequency_window.days,
        marketing=any(p.category == "marketing" for p in planned),
    )
    ctx = RecipientContext(
        explicit_timezone=lookup(data, "customer.timezone"), region=lookup(data, "customer.region")
    )
    context = {
        "source": data.get("source"),
        "order": data.get("order"),
        "cart": data.get("cart"),
        "customer": {
            "region": ctx.region,
            "timezone": ctx.explicit_timezone,
            "id": lookup(data, "customer.id"),
            "name": lookup(data, "customer.name"),
        },
        "data": data.get("data"),
        "event_id": row.event_id,
        "event_type": data.get("type"),
    }
    note_platforms(session, [lookup(data, "source.platform")])
    written: list[Message] = []
    for plan in planned:
        at = now + plan.delay
        msg = new_message(tenant.id, row.id, plan, context, now)
        if plan.render_error:
            msg.status, msg.reason, msg.reason_detail = "blocked", "content_rule", plan.render_error
        else:
            decision = decide(
                PolicyMessage(
                    phone=plan.phone,
                    category=plan.category,
                    channel=plan.channel,
                    text=plan.text,
                    sender=plan.sender,
                    urgent=plan.urgent,
                ),
                facts.for_phone(plan.phone, ctx),
                policy,
                at,
            )
            msg.text = decision.text
            msg.timezones = list(decision.timezones)
            if decision.action == BLOCK:
                msg.status = "blocked"
                msg.reason, msg.reason_detail = decision.reasons[0].code, decision.reasons[0].detail
            elif decision.action == DEFER:
                msg.status, msg.not_before = "scheduled", decision.not_before
                msg.reason, msg.reason_detail = decision.reasons[0].code, decision.reasons[0].detail
            elif plan.delay:
                msg.status, msg.not_before = "scheduled", at
            else:
                msg.status = "queued"
            if plan.category == "marketing" and msg.status != "blocked":
                facts.marketing[plan.phone].append((msg.id, at))
        apply_segments(msg, tariffs)
        written.append(msg)
    # Core executemany instead of the ORM unit of work: this is the hot path of every event
    table = Message.__table__
    columns = [c.key for c in table.columns]
    session.connection().execute(
        table.insert(), [{k: getattr(m, k) for k in columns} for m in written]
    )
    record_history(session, [(m.id, m.status, m.reason, m.reason_detail) for m in written], now)
    return written
