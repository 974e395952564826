"""Delivery: claim, decide again with the facts and the clock of now, send, record.

A message is claimed (`queued|scheduled → sending`) by one atomic UPDATE before any gateway is
called, so two workers, or one job delivered twice, can never send it twice. A worker that dies
after the claim leaves it in `sending`; the sweeper turns that into `unknown`, never a resend.
What became of each claimed message is recorded by `outcomes.py`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from relay.decisions.facts import RecipientContext, active_sender_names, load_facts
from relay.delivery.outcomes import (
    DeliveryReport,
    fail_and_fallback,
    move,
    on_error,
    record_sent,
)
from relay.messages.states import committing, note_platforms, record_history
from relay.policy import BLOCK, DEFER, PolicyMessage, decide
from relay.providers.base import OutboundMessage, ProviderError, SendResult
from relay.receipts.receipts import apply_immediate_receipts
from relay.runtime import Runtime
from relay.storage.models import CLAIMABLE, Message, Tenant
from relay.tenancy.settings import tenant_policy

log = logging.getLogger("relay.delivery")

def claim(session: Session, ids: Sequence[str], now: datetime) -> list[Message]:
    """Atomically move due, claimable messages to `sending`; return the ones this call won."""
    won = session.scalars(
        update(Message)
        .where(
            Message.id.in_(list(ids)),
            Message.status.in_(CLAIMABLE),
            or_(Message.not_before.is_(None), Message.not_before <= now),
        )
        .values(status="sending", attempts=Message.attempts + 1, updated_at=now)
        .returning(Message.id)
    ).all()
    if not won:
        return []
    record_history(session, [(mid, "sending", None, None) for mid in won], now)
    claimed = list(session.scalars(select(Message).where(Message.id.in_(won))).all())
    note_platforms(
        session, [((m.context or {}).get("source") or {}).get("platform") for m in claimed]
    )
    return claimed


def deliver(rt: Runtime, ids: Sequence[str]) -> DeliveryReport:
    """The RQ job body: deliver whichever of `ids` are still due and claimable."""
    report = DeliveryReport()
    now = rt.now()
    with rt.session() as session:
        with committing(session):
            claimed = claim(session, ids, now)
        report.claimed = len(claimed)
        by_tenant: dict[str, list[Message]] = defaultdict(list)
        for msg in claimed:
            by_tenant[msg.tenant_id].append(msg)
        for tenant_id, msgs in by_tenant.items():
            _deliver_tenant(rt, session, tenant_id, msgs, now, report)
    if report.redispatch:
        rt.dispatcher.dispatch(report.redispatch, now)
    return report


def _deliver_tenant(
    rt: Runtime,
    session: Session,
    tenant_id: str,
    msgs: list[Message],
    now: datetime,
    report: DeliveryReport,
) -> None:
    tenant = session.get(Tenant, tenant_id)
    policy = tenant_policy(tenant, active_sender_names(session, tenant_id))
    facts = load_facts(
        session,
        tenant_id,
        {m.phone for m in msgs},
        now,
        window_days=policy.frequency_window.days,
        marketing=any(m.category == "marketing" for m in msgs),
    )
    to_send: list[Message] = []
    with committing(session):
        history: list[tuple[str, str, str | None, str | None]] = []
        for msg in msgs:
            ctx = RecipientContext(**_ctx(msg))
            decision = decide(
                PolicyMessage(
                    phone=msg.phone,
                    category=msg.category,
                    channel=msg.channel,
                    text=msg.text,
                    sender=msg.sender,
                    urgent=msg.urgent,
                    confirmation=bool((msg.context or {}).get("confirmation"))
                    and msg.category == "transactional",
                ),
                facts.for_phone(msg.phone, ctx, exclude_id=msg.id),
                policy,
                now,
            )
            if decision.action == BLOCK:
                reason = decision.reasons[0]
                move(session, msg, "blocked", now, reason=reason.code, reason_detail=reason.detail)
                history.append((msg.id, "blocked", reason.code, "at send: " + reason.detail))
                report.blocked += 1
            elif decision.action == DEFER:
                reason = decision.reasons[0]
                move(
                    session,
                    msg,
                    "scheduled",
                    now,
                    reason=reason.code,
                    reason_detail=reason.detail,
                    not_before=decision.not_before,
                    enqueued_at=now,
                )
                history.append((msg.id, "scheduled", reason.code, "at send: " + reason.detail))
                report.deferred += 1
                report.redispatch.append((msg.id, decision.not_before))
            else:
                to_send.append(msg)
        record_history(session, history, now)
    if to_send:
        rate = (tenant.settings or {}).get("rate")
        _send(rt, session, tenant_id, to_send, now, report, rate)


def _ctx(msg: Message) -> dict[str, str | None]:
    customer = (msg.context or {}).get("customer") or {}
    return {"explicit_timezone": customer.get("timezone"), "region": customer.get("region")}


def _throttled(
    rt: Runtime,
    session: Session,
    provider: Any,
    tenant_rate: str | None,
    batch: list[Message],
    now: datetime,
    report: DeliveryReport,
) -> list[Message]:
    """Keep what the provider's and tenant's rate limits allow now; the rest waits (queued)."""
    limits = []
    if provider.rate:
        limits.append((f"provider:{provider.name}", str(provider.rate)))
    if tenant_rate:
        limits.append((f"tenant:{batch[0].tenant_id}", tenant_rate))
    if not limits:
        return batch
    grant = rt.throttle.take(limits, len(batch), now.timestamp())
    if grant.allowed >= len(batch):
        return batch
    waiting = batch[grant.allowed :]
    at = now + timedelta(seconds=grant.retry_after)
    with committing(session):
        for msg in waiting:
            # a throttle is not the message's fault: the attempt is given back
            move(
                session,
                msg,
                "queued",
                now,
                not_before=at,
                attempts=msg.attempts - 1,
                enqueued_at=now,
                reason="throttled",
                reason_detail="waiting for rate limit",
            )
            report.redispatch.append((msg.id, at))
        record_history(session, [(m.id, "queued", "throttled", "rate limit") for m in waiting], now)
    report.retried += len(waiting)
    return batch[: grant.allowed]


def _send(
    rt: Runtime,
    session: Session,
    tenant_id: str,
    msgs: list[Message],
    now: datetime,
    report: DeliveryReport,
    tenant_rate: str | None = None,
) -> None:
    by_provider: dict[str, list[Message]] = defaultdict(list)
    providers = {}
    chain = rt.providers.chain(session, tenant_id)
    chosen: dict[str, Any] = {}
    for msg in msgs:
        if msg.channel not in chosen:
            chosen[msg.channel] = rt.providers.pick_from(chain, msg.channel)
        provider = chosen[msg.channel]
        if provider is None:
            with committing(session):
                fail_and_fallback(
                    session, msg, now, "no_provider", f"no gateway sends {msg.channel}", []
                )
                record_history(session, [(msg.id, "failed", None, "no gateway")], now)
            report.failed += 1
            continue
        providers[provider.name] = provider
        by_provider[provider.name].append(msg)
    for name, batch in by_provider.items():
        provider = providers[name]
        batch = _throttled(rt, session, provider, tenant_rate, batch, now, report)
        if not batch:
            continue
        outbound = [
            OutboundMessage(
                message_id=m.id,
                phone=m.phone,
                text=m.text,
                channel=m.channel,
                sender=m.sender,
                encoding=m.encoding,
                viber=m.viber,
                callback_url=provider.callback_url("dlr"),
            )
            for m in batch
        ]
        results = provider.send_many(outbound)
        accepted: list[tuple[Message, SendResult]] = []
        with committing(session):
            history: list[tuple[str, str, str | None, str | None]] = []
            for msg, result in zip(batch, results, strict=True):
                if isinstance(result, ProviderError):
                    on_error(rt, session, msg, name, result, now, report, history)
                else:
                    accepted.append((msg, result))
            moved = record_sent(session, name, accepted, now)
            history += [
                (m.id, "sent", None, f"accepted by {name}") for m, _ in accepted if m.id in moved
            ]
            record_history(session, history, now)
        report.sent += len(accepted)
        if accepted:
            rt.providers.health.succeeded(name)
        immediate: dict[str, list[Message]] = defaultdict(list)
        for msg, result in accepted:
            if result.immediate_status:
                immediate[result.immediate_status].append(msg)
        if immediate:
            with committing(session):
                apply_immediate_receipts(session, name, immediate, now)


__all__ = ["claim", "deliver", "CLAIMABLE"]
