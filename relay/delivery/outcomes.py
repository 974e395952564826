"""Recording what became of a claimed message: sent, retried, throttled or failed (a failed
Viber message falls back to SMS).

The claim/decide/send loop (`delivery.py`) calls these with a message it has moved to
`sending`; a status is written only while the row is still `sending`, because a receipt
(`relay/receipts`) may have arrived first and must win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from relay.messages.states import record_history
from relay.messages.viber import create_fallback, expiry
from relay.providers.base import PERMANENT, THROTTLED, ProviderError, SendResult
from relay.runtime import Runtime
from relay.storage.models import Message


@dataclass
class DeliveryReport:
    """What one delivery job did, for logs, tests and benchmarks."""

    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    redispatch: list[tuple[str, datetime | None]] = field(default_factory=list)


def backoff(attempt: int) -> timedelta:
    """Retry delay after the n-th failed attempt: 30 s, 60 s, 2 min … capped at 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempt - 1)))


def move(session: Session, msg: Message, status: str, now: datetime, **values: object) -> None:
    """Update one claimed message, only while it is still `sending` (a receipt may be faster)."""
    values.setdefault("reason", None)
    session.execute(
        update(Message)
        .where(Message.id == msg.id, Message.status == "sending")
        .values(status=status, updated_at=now, **values)
    )


# One statement for a whole batch: only rows still `sending` move (a receipt may be faster).
_T = Message.__table__
_SENT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.status == "sending")
    .values(
        status="sent",
        reason=None,
        error=None,
        updated_at=bindparam("b_now"),
        provider=bindparam("b_provider"),
        provider_message_id=bindparam("b_ref"),
        expires_at=bindparam("b_expires"),
        cost=bindparam("b_cost"),
        currency=bindparam("b_currency"),
    )
)


def record_sent(
    session: Session, provider: str, accepted: list[tuple[Message, SendResult]], now: datetime
) -> set[str]:
    """Mark accepted messages `sent` with one executemany; returns the ids it moved.

    A receipt can beat this (the gateway reported `delivered` before we committed `sent`): such
    rows keep their newer status and only get the gateway, its reference and the price.
    """
    if not accepted:
        return set()
    rows = []
    for msg, result in accepted:
        # the gateway's own price replaces the estimate when it tells us one
        priced = result.cost is not None
        rows.append(
            {
                "b_id": msg.id,
                "b_now": now,
                "b_provider": provider,
                "b_ref": result.provider_message_id,
                "b_expires": expiry(msg, now),
                "b_cost": result.cost if priced else msg.cost,
                "b_currency": (result.currency or msg.currency) if priced else msg.currency,
            }
        )
    session.execute(_SENT, rows)
    ids = [r["b_id"] for r in rows]
    overtaken = set(
        session.scalars(select(Message.id).where(Message.id.in_(ids), Message.provider.is_(None)))
    )
    if overtaken:
        session.execute(_SENT_DETAILS, [r for r in rows if r["b_id"] in overtaken])
    return set(ids) - overtaken


_SENT_DETAILS = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.provider.is_(None))
    .values(
        provider=bindparam("b_provider"),
        provider_message_id=func.coalesce(_T.c.provider_message_id, bindparam("b_ref")),
        expires_at=bindparam("b_expires"),
        cost=bindparam("b_cost"),
        currency=bindparam("b_currency"),
    )
)


def on_error(
    rt: Runtime,
    session: Session,
    msg: Message,
    provider: str,
    err: ProviderError,
    now: datetime,
    report: DeliveryReport,
    history: list,
) -> None:
    detail = f"{provider}: {err.code}: {err.message}"[:500]
    if err.kind == PERMANENT:
        fail_and_fallback(session, msg, now, err.code, detail, history)
        report.failed += 1
        return
    if err.kind == THROTTLED:
        # a throttle is not the message's fault: give the attempt back and wait a moment
        at = now + timedelta(seconds=1)
        move(
            session,
            msg,
            "queued",
            now,
            not_before=at,
            attempts=msg.attempts - 1,
            error=detail,
            enqueued_at=now,
            reason="throttled",
        )
        history.append((msg.id, "queued", "throttled", detail))
        report.redispatch.append((msg.id, at))
        report.retried += 1
        return
    rt.providers.health.failed(provider)
    if msg.attempts >= int(rt.config["MAX_ATTEMPTS"]):
        fail_and_fallback(session, msg, now, err.code, detail + " (retries exhausted)", history)
        report.failed += 1
        return
    at = now + backoff(msg.attempts)
    move(session, msg, "queued", now, not_before=at, error=detail, enqueued_at=now)
    history.append((msg.id, "queued", None, "retry after " + detail))
    report.redispatch.append((msg.id, at))
    report.retried += 1


def fail_and_fallback(
    session: Session, msg: Message, now: datetime, code: str, detail: str, history: list
) -> None:
    """A permanent failure; a Viber message falls back to its SMS text."""
    fail(session, msg, now, code, detail, history)
    create_fallback(session, msg, now)


def fail(
    session: Session,
    msg: Message,
    now: datetime,
    code: str,
    detail: str,
    history: list | None = None,
) -> None:
    move(session, msg, "failed", now, error=detail, reason_detail=detail)
    row = (msg.id, "failed", None, detail)
    if history is None:
        record_history(session, [row], now)
    else:
        history.append(row)
