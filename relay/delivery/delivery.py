"""Delivery: claim, decide again with the facts and the clock of now, send, record.

A message is claimed (`queued|scheduled → sending`) by one atomic UPDATE before any gateway is
called, so two workers, or one job delivered twice, can never send it twice. A worker that dies
after the claim leaves it in `sending`; the sweeper turns that into `unknown`, never a resend.
What became of each claimed message is recorded by `outcomes.py`, a batch at a time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from relay.decisions.decide_batch import Planned, decide_for
from relay.delivery.outcomes import (
    SENDING,
    DeliveryReport,
    failed_move,
    on_error,
    record_outcomes,
    sent_move,
)
from relay.messages.lifecycle import CLAIMABLE, MessageStatus, Move, ids_in, set_status
from relay.providers.base import OutboundMessage, ProviderError
from relay.runtime import Runtime
from relay.storage.models import Message, Tenant
from relay.storage.unit_of_work import committing

log = logging.getLogger("relay.delivery")
_T = Message.__table__


def claim(session: Session, ids: Sequence[str], now: datetime) -> list[Message]:
    """Atomically move due, claimable messages to `sending`; return the ones this call won."""
    won = set_status(
        session,
        list(ids),
        now,
        to=MessageStatus.SENDING,
        only_from=CLAIMABLE,
        where=[or_(_T.c.not_before.is_(None), _T.c.not_before <= now)],
        values={"attempts": _T.c.attempts + 1},
    )
    if not won:
        return []
    return list(session.scalars(select(Message).where(ids_in(session, Message.id, won))).all())


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
    return report


def _deliver_tenant(
    rt: Runtime,
    session: Session,
    tenant_id: str,
    msgs: list[Message],
    now: datetime,
    report: DeliveryReport,
) -> None:
    tenant = session.get_one(Tenant, tenant_id)
    outcomes = decide_for(session, tenant, [_planned(m) for m in msgs], now)
    to_send: list[Message] = []
    moves: list[Move] = []
    for msg, o in zip(msgs, outcomes, strict=True):
        if o.status is MessageStatus.BLOCKED:
            values: dict[str, Any] = {"reason": o.reason, "reason_detail": o.detail}
            moves.append(Move(msg, o.status, o.reason, f"at send: {o.detail}", values))
            report.blocked += 1
        elif o.deferred:
            # a backlog that drifted into quiet hours waits again
            values = {
                "reason": o.reason,
                "reason_detail": o.detail,
                "not_before": o.not_before,
                "enqueued_at": now,
            }
            moves.append(
                Move(msg, MessageStatus.SCHEDULED, o.reason, f"at send: {o.detail}", values)
            )
            report.deferred += 1
        else:
            to_send.append(msg)
    if moves:
        with committing(session):
            set_status(session, moves, now, only_from=SENDING)
    if to_send:
        rate = (tenant.settings or {}).get("rate")
        _send(rt, session, tenant_id, to_send, now, report, rate)


def _planned(msg: Message) -> Planned:
    """A claimed message as the policy sees it at send time."""
    context = msg.context or {}
    customer = context.get("customer") or {}
    return Planned(
        phone=msg.phone,
        category=msg.category,
        channel=msg.channel,
        text=msg.text,
        sender=msg.sender,
        urgent=msg.urgent,
        confirmation=bool(context.get("confirmation")) and msg.category == "transactional",
        timezone=customer.get("timezone"),
        region=customer.get("region"),
        message_id=msg.id,
    )


def _throttled(
    rt: Runtime,
    provider: Any,
    tenant_rate: str | None,
    batch: list[Message],
    now: datetime,
    report: DeliveryReport,
    moves: list[Move],
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
    for msg in waiting:
        # a throttle is not the message's fault: the attempt is given back
        values = {
            "not_before": at,
            "attempts": msg.attempts - 1,
            "enqueued_at": now,
            "reason": "throttled",
            "reason_detail": "waiting for rate limit",
        }
        moves.append(Move(msg, MessageStatus.QUEUED, "throttled", "rate limit", values))
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
    moves: list[Move] = []
    for msg in msgs:
        if msg.channel not in chosen:
            chosen[msg.channel] = rt.providers.pick_from(chain, msg.channel)
        provider = chosen[msg.channel]
        if provider is None:
            moves.append(failed_move(msg, f"no gateway sends {msg.channel}", "no gateway"))
            report.failed += 1
            continue
        providers[provider.name] = provider
        by_provider[provider.name].append(msg)
    for name, batch in by_provider.items():
        provider = providers[name]
        batch = _throttled(rt, provider, tenant_rate, batch, now, report, moves)
        if not batch:
            continue
        if moves:  # what waits or failed is recorded before the gateway is called
            with committing(session):
                record_outcomes(session, moves, now)
            moves = []
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
        accepted: list[Message] = []
        for msg, result in zip(batch, results, strict=True):
            if isinstance(result, ProviderError):
                moves.append(on_error(rt, msg, name, result, now, report))
            else:
                moves.append(sent_move(msg, name, result, now))
                accepted.append(msg)
        with committing(session):
            record_outcomes(session, moves, now)
        moves = []
        report.sent += len(accepted)
        if accepted:
            rt.providers.health.succeeded(name)
    if moves:
        with committing(session):
            record_outcomes(session, moves, now)


__all__ = ["claim", "deliver", "CLAIMABLE", "SENDING"]
