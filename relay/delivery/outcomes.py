"""Recording what became of claimed messages: sent, retried, throttled, unknown or failed (a
failed Viber message falls back to SMS).

The claim/decide/send loop (`delivery.py`) collects one `Move` per claimed message and hands
them to `set_status` together, so a batch's outcomes cost one UPDATE per kind of outcome, not
one per message. Every move is made only while the row is still `sending`, because a receipt
(`relay/receipts`) may have arrived first and must win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus, Move, set_status, status
from relay.messages.viber import FALLBACK_STATUSES, create_fallback, expiry
from relay.providers.base import AMBIGUOUS, PERMANENT, THROTTLED, ProviderError, SendResult
from relay.runtime import Runtime
from relay.storage.models import Message

SENDING = (MessageStatus.SENDING,)


@dataclass
class DeliveryReport:
    """What one delivery job did, for logs, tests and benchmarks."""

    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0


def backoff(attempt: int) -> timedelta:
    """Retry delay after the n-th failed attempt: 30 s, 60 s, 2 min … capped at 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempt - 1)))


def sent_move(msg: Message, provider: str, result: SendResult, now: datetime) -> Move:
    """`sent`, with the gateway, its reference, the Viber expiry and the price; a status the
    gateway reported with the send itself (the sandbox) follows in the same change."""
    # the gateway's own price replaces the estimate when it tells us one
    priced = result.cost is not None
    accepted = f"accepted by {provider}"
    to, detail, via = MessageStatus.SENT, accepted, None
    if result.immediate_status:
        to, detail = status(result.immediate_status), f"receipt from {provider}"
        via = (MessageStatus.SENT, accepted)
    return Move(
        msg,
        to,
        detail=detail,
        via=via,
        values={
            "reason": None,
            "error": None,
            "provider": provider,
            "provider_message_id": result.provider_message_id,
            "expires_at": expiry(msg, now),
            "cost": result.cost if priced else msg.cost,
            "currency": (result.currency or msg.currency) if priced else msg.currency,
        },
    )


def record_outcomes(session: Session, moves: list[Move], now: datetime) -> set[str]:
    """Write a batch's outcomes (only rows still `sending` move); returns the ids moved.

    A receipt can beat a `sent` (the gateway reported `delivered` before we committed): such a
    row keeps its newer status and only gets the gateway, its reference and the price. A
    message that failed falls back to its SMS text.
    """
    moved = set(set_status(session, moves, now, only_from=SENDING))
    overtaken = [m for m in moves if _sent(m) and m.id not in moved]
    if overtaken:
        session.execute(
            _SENT_DETAILS,
            [{"b_id": m.id, **{f"b_{k}": m.values[k] for k in _DETAILS}} for m in overtaken],
        )
    for m in moves:
        if m.to in FALLBACK_STATUSES and m.id in moved and isinstance(m.message, Message):
            create_fallback(session, m.message, now)
    return moved


def _sent(move: Move) -> bool:
    """The move records a send (possibly with the receipt that came with it)."""
    via = move.via[0] if move.via else None
    return MessageStatus.SENT in (move.to, via)


_T = Message.__table__
_DETAILS = ("provider", "provider_message_id", "expires_at", "cost", "currency")
_SENT_DETAILS = (
    update(_T)
    .where(
        _T.c.id == bindparam("b_id"),
        # the send's own gateway (marked when the attempt started) or none yet
        or_(_T.c.provider.is_(None), _T.c.provider == bindparam("b_provider")),
    )
    .values(
        provider=bindparam("b_provider"),
        provider_message_id=func.coalesce(
            _T.c.provider_message_id, bindparam("b_provider_message_id")
        ),
        expires_at=bindparam("b_expires_at"),
        cost=bindparam("b_cost"),
        currency=bindparam("b_currency"),
    )
)


def on_error(
    rt: Runtime,
    msg: Message,
    provider: str,
    err: ProviderError,
    now: datetime,
    report: DeliveryReport,
) -> Move:
    """What a gateway error makes of a message: a wait, a retry with backoff, `unknown` (the
    gateway may have it: never resent blindly) or a failure."""
    detail = f"{provider}: {err.code}: {err.message}"[:500]
    if err.kind == PERMANENT:
        report.failed += 1
        return failed_move(msg, detail)
    if err.kind == AMBIGUOUS:
        report.unknown += 1
        note = f"{detail}; not resent: the gateway is asked, or a receipt or an operator decides"
        return Move(
            msg,
            MessageStatus.UNKNOWN,
            None,
            note,
            {"error": detail, "reason_detail": note, "reason": None, "provider": provider},
        )
    if err.kind == THROTTLED:
        # a throttle is not the message's fault: give the attempt back and wait as long as the
        # gateway asked (a second when it did not say)
        report.retried += 1
        wait = max(1.0, err.retry_after or 1.0)
        return Move(
            msg,
            MessageStatus.QUEUED,
            "throttled",
            detail,
            {
                "not_before": now + timedelta(seconds=wait),
                "attempts": msg.attempts - 1,
                "error": detail,
                "enqueued_at": now,
                "reason": "throttled",
            },
        )
    rt.providers.health.failed(provider)
    if msg.attempts >= int(rt.config["MAX_ATTEMPTS"]):
        report.failed += 1
        return failed_move(msg, detail + " (retries exhausted)")
    report.retried += 1
    return Move(
        msg,
        MessageStatus.QUEUED,
        None,
        "retry after " + detail,
        {
            "not_before": now + backoff(msg.attempts),
            "error": detail,
            "enqueued_at": now,
            "reason": None,
        },
    )


def failed_move(msg: Message, detail: str, history: str | None = None) -> Move:
    """A permanent failure (`record_outcomes` creates a Viber message's SMS fallback)."""
    return Move(
        msg,
        MessageStatus.FAILED,
        None,
        history or detail,
        {"error": detail, "reason_detail": detail, "reason": None},
    )
