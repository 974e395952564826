"""Intake: a validated event becomes recorded decisions, in one transaction.

The new messages' ids go to the session's outbox; they reach the queue only once the caller
has committed: a crash between the two leaves rows the sweeper will find, never a queued id
without its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from relay.decisions.decide_batch import Planned, decide_for
from relay.errors import RelayError
from relay.intake.events_store import NewEvent, insert_events_once
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


@dataclass(frozen=True, slots=True)
class Submission:
    """One event as the API received it, for its tenant."""

    tenant: Tenant
    wire: Any


@dataclass(slots=True)
class _Accepted:
    """An event past validation, on its way to the database."""

    index: int
    tenant: Tenant
    event: Any
    data: dict[str, Any]
    phone: str | None
    payload_hash: str


def submit_event(session: Session, tenant: Tenant, wire: Any, now: datetime) -> IntakeResult:
    """Validate, dedupe, record consent, cancel, expand flows, decide and write messages."""
    [answer] = submit_events(session, [Submission(tenant, wire)], now)
    if isinstance(answer, RelayError):
        raise answer
    return answer


def submit_events(
    session: Session, submissions: Sequence[Submission], now: datetime
) -> list[IntakeResult | RelayError]:
    """`submit_event` for several events at once, in one transaction: one answer each, in
    order — the IntakeResult, or the RelayError that event alone would raise (nothing of it
    is written). The events are recorded in one statement, each tenant's messages decided in
    one `decide_for` call, and all messages written in one INSERT with their history; the
    events must have distinct (tenant, event_id) (relay/intake/group_commit.py sees to it).
    Any other error is raised: the caller rolls the whole transaction back."""
    answers: list[IntakeResult | RelayError | None] = [None] * len(submissions)
    accepted: list[_Accepted] = []
    for index, sub in enumerate(submissions):
        try:
            accepted.append(_accept(index, sub))
        except RelayError as exc:
            answers[index] = exc
    rows = insert_events_once(
        session,
        [NewEvent(a.tenant.id, a.event, a.data, a.payload_hash) for a in accepted],
        now,
    )
    fresh: list[tuple[_Accepted, Any]] = []
    for a, row in zip(accepted, rows, strict=True):
        if row is not None:
            fresh.append((a, row))
            continue
        # recorded before (or by a concurrent request that won the race): a duplicate
        existing = session.scalars(
            select(Event).where(Event.tenant_id == a.tenant.id, Event.event_id == a.event.event_id)
        ).one()
        try:
            answers[a.index] = _duplicate(session, existing, a.payload_hash)
        except RelayError as exc:
            answers[a.index] = exc
    plans: list[_Plans] = []
    pending: list[_Plans] = []  # planned, not yet decided and written
    written: dict[int, list[Message]] = {}
    for a, row in fresh:
        config = TENANT_CONFIG.get(session, a.tenant.id)
        consent = a.event.type in ("consent.granted", "consent.revoked") and a.phone is not None
        if pending and (consent or config.flows_cancelled_by(a.event.type)):
            # as one at a time: the events before it are decided and written first, so they do
            # not see its consent record and its cancellation sees their messages
            written.update(_decide_and_write(session, pending, now))
            pending = []
        if consent and a.phone:
            _record_consent(session, a.tenant, row, a.data, a.phone, now)
            session.flush()  # its own messages are decided on the ledger with it
        _cancel_pending(session, a.tenant, config, a.event.type, a.data, a.phone, now)
        plan = _Plans(a, config, row, _plan(config, a.event.type, a.data, a.phone))
        plans.append(plan)
        pending.append(plan)
    written.update(_decide_and_write(session, pending, now))
    for p in plans:
        answers[p.accepted.index] = IntakeResult(
            202,
            {
                "event_id": p.accepted.event.event_id,
                "duplicate": False,
                "messages": [message_summary(m) for m in written[p.accepted.index]],
            },
        )
    return [a for a in answers if a is not None]


def _accept(index: int, sub: Submission) -> _Accepted:
    """Validation and normalisation: no database, raises RelayError."""
    event = parse_event(sub.wire)
    payload_hash = canonical_hash(sub.wire)
    if sub.tenant.status != "active":
        raise RelayError("tenant_disabled", "this tenant is disabled", 403)
    data = event_to_wire(event)
    phone = _normalised_phone(sub.tenant, data)
    if phone is not None:
        data["customer"]["phone"] = phone
    return _Accepted(index, sub.tenant, event, data, phone, payload_hash)


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


@dataclass(slots=True)
class _Plans:
    """A fresh event's planned messages."""

    accepted: _Accepted
    config: TenantConfig
    row: Any
    planned: list[PlannedMessage]


def _decide_and_write(
    session: Session, plans: list[_Plans], now: datetime
) -> dict[int, list[Message]]:
    """Each event's messages (by its index), decided per tenant in one `decide_for` call (the
    frequency cap counts what earlier events of the batch planned), written in one INSERT."""
    written: dict[int, list[Message]] = {p.accepted.index: [] for p in plans}
    by_tenant: dict[str, list[tuple[_Plans, Message, Planned]]] = {}
    for p in plans:
        data = p.accepted.data
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
            "event_id": p.row.event_id,
            "event_type": data.get("type"),
        }
        tenant = p.accepted.tenant
        for plan in p.planned:
            msg = new_message(tenant.id, p.row.id, plan, context, now)
            written[p.accepted.index].append(msg)
            by_tenant.setdefault(tenant.id, []).append(
                (
                    p,
                    msg,
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
                    ),
                )
            )
    new: list[NewMessage] = []
    for items in by_tenant.values():
        first = items[0][0]
        tenant = first.accepted.tenant
        policy = tenant_policy(tenant, first.config.sender_names)
        tariffs = (tenant.settings or {}).get("tariffs")
        outcomes = decide_for(
            session, tenant, [planned for _, _, planned in items], now, policy=policy
        )
        for (_p, msg, _planned), outcome in zip(items, outcomes, strict=True):
            if outcome.decision is not None:
                msg.text, msg.timezones = outcome.text, list(outcome.timezones)
            if outcome.status is MessageStatus.SCHEDULED:
                msg.not_before = outcome.not_before
            apply_segments(msg, tariffs)
            new.append(NewMessage(msg, outcome.status, outcome.reason, outcome.detail))
    if new:
        # one multi-row INSERT for the messages and one for their history: every event's hot path
        set_status(session, new, now)
    return written
