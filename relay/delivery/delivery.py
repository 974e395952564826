"""Delivery: claim, decide again with the facts and the clock of now, send, record.

A job's ids are claimed a small window at a time (`DELIVERY_WINDOW` ids to begin with, more
while a window takes under half of `DELIVERY_WINDOW_SECONDS`): `queued|scheduled →
sending` by one atomic UPDATE under a claim token, before any gateway is called, so two
workers, or one job delivered twice, can never send a message twice. Just before the gateway is
called for a message (or for the group a gateway takes at once, `Provider.in_flight`), its
"attempt started" marker is committed, only while the claim is still this worker's; what the
gateway answered is committed with the next group's marker. A worker killed mid-window thus
leaves at most one group with a marker and no answer (the sweeper asks the gateway or makes
them `unknown`, never a blind resend) and the rest of the window without a marker, provably
never sent: the sweeper re-queues those (docs/security.md, "Stranded batches").

A gateway's or tenant's `rate` is taken the same way, per group and just before its marker and
call, so the gateway sees no more than its rate in any period across every host; what finds no
room goes back to `queued` unmarked (docs/architecture.md, "Many hosts").
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from relay.adapters import metrics
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


def claim(
    session: Session, ids: Sequence[str], now: datetime, token: str | None = None
) -> list[Message]:
    """Atomically move due, claimable messages to `sending` under a claim token (a new one
    when not given); return the ones this call won."""
    won = set_status(
        session,
        list(ids),
        now,
        to=MessageStatus.SENDING,
        only_from=CLAIMABLE,
        where=[or_(_T.c.not_before.is_(None), _T.c.not_before <= now)],
        values={
            "attempts": _T.c.attempts + 1,
            "claim_token": token or secrets.token_hex(16),
            "attempt_started_at": None,
        },
    )
    if not won:
        return []
    return list(session.scalars(select(Message).where(ids_in(session, Message.id, won))).all())


def mark_attempt_started(
    session: Session, msgs: Sequence[Message], provider: str, now: datetime
) -> set[str]:
    """Note that the gateway is about to be called for `msgs`; returns the ids still held by
    their claim (a claim the sweeper took back, or another worker won since, is left alone and
    must not be sent). Not a status change: the message stays `sending`."""
    if not msgs:
        return set()
    by_token: dict[str | None, list[str]] = defaultdict(list)
    for m in msgs:
        by_token[m.claim_token].append(m.id)
    held: set[str] = set()
    for token, ids in by_token.items():
        if token is None:
            continue
        rows = session.execute(
            update(_T)
            .where(
                ids_in(session, _T.c.id, ids),
                _T.c.status == MessageStatus.SENDING.value,
                _T.c.claim_token == token,
                _T.c.attempt_started_at.is_(None),
            )
            .values(attempt_started_at=now, provider=provider)
            .returning(_T.c.id)
        )
        held |= {r[0] for r in rows}
    return held


# the window size this worker process last found right (see `deliver`)
_LEARNED: dict[str, int] = {}


def deliver(rt: Runtime, ids: Sequence[str]) -> DeliveryReport:
    """The RQ job body: deliver whichever of `ids` are still due and claimable, a window at a
    time."""
    report = DeliveryReport()
    smallest = max(1, int(rt.config["DELIVERY_WINDOW"]))
    window = max(smallest, _LEARNED.get("window", smallest))
    # a window is sized by time, not only by count: a fast gateway (a local SMSC, the sandbox)
    # would pay three commits per 25 messages; a window that took under half of this grows, one
    # that took over twice of it shrinks back, so a kill strands about this long of sends
    target = float(rt.config["DELIVERY_WINDOW_SECONDS"])
    ids = list(ids)
    start = 0
    with rt.session() as session:
        while start < len(ids):
            began, now = time.monotonic(), rt.now()
            with committing(session):
                claimed = claim(session, ids[start : start + window], now)
            start += window
            report.claimed += len(claimed)
            by_tenant: dict[str, list[Message]] = defaultdict(list)
            for msg in claimed:
                by_tenant[msg.tenant_id].append(msg)
            for tenant_id, msgs in by_tenant.items():
                _deliver_tenant(rt, session, tenant_id, msgs, now, report)
            took = time.monotonic() - began
            if claimed and took < target / 2:
                window = min(window * 2, 1000)
            elif took > target * 2:
                window = max(smallest, window // 2)
            _LEARNED["window"] = window  # the next job of this worker starts where this one ended
    return report


def drain(rt: Runtime) -> DeliveryReport:
    """The RQ job body of coalesced delivery: take batches of ids off the pending list and
    deliver them while the list is not empty, for up to `drain_seconds` of starting batches.

    The job disarms first, so an id pushed after that arms a job of its own; when ids remain
    after a take, it arms one more, so an idle worker helps with a long list. An id taken and
    then lost with this process is still `queued` in the database: the sweeper finds it
    (docs/architecture.md, "Delivery")."""
    dispatcher = rt.dispatcher
    report = DeliveryReport()
    dispatcher.disarm()
    deadline = time.monotonic() + dispatcher.drain_seconds
    while True:
        ids, left = dispatcher.take(dispatcher.batch_size)
        if not ids:
            return report
        if left:
            dispatcher.arm()
        part = deliver(rt, ids)
        for name, value in vars(part).items():
            setattr(report, name, getattr(report, name) + value)
        if time.monotonic() >= deadline:
            if dispatcher.pending():
                dispatcher.arm()  # the rest goes to a fresh job, so other queues get a turn
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


def _limits(provider: Any, tenant_id: str, tenant_rate: str | None) -> list[tuple[str, str]]:
    """The shared rate limits a send through `provider` for the tenant counts against."""
    limits = []
    if provider.rate:
        limits.append((f"provider:{provider.name}", str(provider.rate)))
    if tenant_rate:
        limits.append((f"tenant:{tenant_id}", tenant_rate))
    return limits


def _wait_for_rate(
    msgs: Sequence[Message], retry_after: float, now: datetime, report: DeliveryReport
) -> list[Move]:
    """Claimed messages the rate limits have no room for now: back to `queued` until there is."""
    at = now + timedelta(seconds=retry_after)
    moves = []
    for msg in msgs:
        # a throttle is not the message's fault: the attempt is given back
        values = {
            "not_before": at,
            "attempts": msg.attempts - 1,
            "enqueued_at": now,
            "reason": "throttled",
            "reason_detail": "waiting for rate limit",
        }
        moves.append(Move(msg, MessageStatus.QUEUED, "throttled", "rate limit", values))
    report.retried += len(msgs)
    return moves


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
        limits = _limits(provider, tenant_id, tenant_rate)
        # what waits or failed is recorded with the first group's marker, before any send
        accepted: list[Message] = []
        step = max(1, provider.in_flight)
        start = 0
        while start < len(batch):
            group = batch[start : start + step]
            start += step
            # the rate slot is taken for this group only, just before its call, and counts
            # until a period after the gateway answered (relay/adapters/throttle.py): a slot
            # taken for a whole window would be spent over the window's send time, and the
            # gateway's worst second would hold slots of the second before. A gateway
            # without a limit costs no Redis round trip.
            grant = rt.throttle.take(limits, len(group)) if limits else None
            if grant is not None and grant.allowed < len(group):
                # the rest of the batch waits for room; it has no marker, so it never went
                rest = group[grant.allowed :] + batch[start:]
                moves += _wait_for_rate(rest, grant.retry_after, rt.now(), report)
                group, start = group[: grant.allowed], len(batch)
            sent: list[Message] = []
            results: list[Any] = []
            try:
                if group:
                    # the last group's answers and this group's marker: one commit
                    with committing(session):
                        record_outcomes(session, moves, now)
                        held = mark_attempt_started(session, group, name, rt.now())
                    moves = []
                    sent = [m for m in group if m.id in held]
                if sent:
                    with metrics.gateway_call(name):
                        results = provider.send_many([_outbound(m, provider) for m in sent])
            finally:
                if grant is not None:
                    # the slots of what was not sent (a claim lost meanwhile) are free again
                    rt.throttle.finish(grant, len(sent))
            if not sent:
                continue
            metrics.sends_recorded(name, results, ProviderError)
            for msg, result in zip(sent, results, strict=True):
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


def _outbound(m: Message, provider: Any) -> OutboundMessage:
    return OutboundMessage(
        message_id=m.id,
        phone=m.phone,
        text=m.text,
        channel=m.channel,
        sender=m.sender,
        encoding=m.encoding,
        viber=m.viber,
        callback_url=provider.callback_url("dlr"),
    )


__all__ = ["claim", "deliver", "drain", "mark_attempt_started", "CLAIMABLE", "SENDING"]
