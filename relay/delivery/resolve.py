"""Settling `unknown` messages: the gateway's word, or an operator's, never a silent resend.

A message is `unknown` when its send got no answer (a read timeout, a connection lost after the
request was written, a worker killed mid-send). Three things may settle it:
- the gateway, asked (`ask_gateways`, a job the sweeper enqueues): a gateway that can look a
  message up by our own reference (SMSC: our id goes with the send) answers with its status,
  which is applied like a receipt, or with "no such message", which proves it never arrived:
  the message is queued again;
- a receipt that arrives later (`relay.receipts`: `unknown` may take any receipt's status);
- an operator (`resolve_unknown`: `relay messages resolve-unknown --resend|--fail`, `POST
  /v1/messages/resolve-unknown`), whose name goes to the history and the audit log.
docs/security.md, "Stranded batches" and "Duplicate sends".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.compliance.audit import audit
from relay.messages.lifecycle import MessageStatus, set_status
from relay.providers.base import OutboundMessage, ProviderError
from relay.receipts.receipts import apply_receipt
from relay.runtime import Runtime
from relay.storage.models import Message
from relay.storage.unit_of_work import committing

log = logging.getLogger("relay.delivery.resolve")

ASK_JOB = "relay.jobs.ask_gateways"
UNKNOWN = (MessageStatus.UNKNOWN,)
Action = Literal["resend", "fail"]
ACTIONS: tuple[Action, ...] = ("resend", "fail")


@dataclass
class AskReport:
    """What asking the gateways settled."""

    asked: int = 0
    settled: int = 0  # the gateway had it: its status applied
    requeued: int = 0  # the gateway has no record of it: never arrived, sent again
    still_unknown: int = 0  # cannot be asked, or no answer: a receipt or an operator decides


def ask_gateways(rt: Runtime, ids: Sequence[str]) -> AskReport:
    """Ask each `unknown` message's gateway what became of it, where the gateway can say."""
    report = AskReport()
    with rt.session() as session:
        msgs = session.scalars(
            select(Message).where(Message.id.in_(list(ids)), Message.status == UNKNOWN[0])
        ).all()
        for msg in msgs:
            found = rt.providers.by_name(session, msg.provider) if msg.provider else None
            if found is None:
                report.still_unknown += 1
                continue
            provider = found[1]
            outbound = OutboundMessage(
                message_id=msg.id, phone=msg.phone, text=msg.text, channel=msg.channel
            )
            try:
                answer = provider.lookup(outbound, msg.provider_message_id)
            except ProviderError as exc:
                log.info("gateway lookup failed", extra={"message_id": msg.id, "code": exc.code})
                answer = None
            if answer is None:
                report.still_unknown += 1
                continue
            report.asked += 1
            now = rt.now()
            with committing(session):
                if not answer.known:
                    detail = f"{provider.name} has no record of it: it never arrived; re-queued"
                    moved = set_status(
                        session,
                        [msg.id],
                        now,
                        to=MessageStatus.QUEUED,
                        only_from=UNKNOWN,
                        detail=detail,
                        values={"not_before": None, "enqueued_at": now, "claim_token": None},
                    )
                    report.requeued += len(moved)
                elif answer.receipt is not None:
                    result = apply_receipt(session, provider.name, answer.receipt, now)
                    report.settled += result == "applied"
                else:  # the gateway has it, still on its way: it was sent
                    moved = set_status(
                        session,
                        [msg.id],
                        now,
                        to=MessageStatus.SENT,
                        only_from=UNKNOWN,
                        detail=f"{provider.name} has it (status query)",
                    )
                    report.settled += len(moved)
    return report


def resolve_unknown(
    session: Session,
    *,
    action: Action,
    actor: str,
    now: datetime,
    tenant_id: str | None = None,
    ids: Sequence[str] = (),
    provider: str | None = None,
    before: datetime | None = None,
) -> list[str]:
    """An operator's decision on `unknown` messages (by ids, or every one matching the
    filter): `resend` queues them again, `fail` ends them; returns the ids changed. The actor
    is named in each message's history and in one audit entry."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    if not actor.strip():
        raise ValueError("the deciding operator must be named, got an empty actor")
    if not ids and tenant_id is None and provider is None and before is None:
        raise ValueError("name the messages: ids, a tenant, a gateway or a time")
    query = select(Message.id).where(Message.status == UNKNOWN[0])
    if ids:
        query = query.where(Message.id.in_(list(ids)))
    if tenant_id is not None:
        query = query.where(Message.tenant_id == tenant_id)
    if provider is not None:
        query = query.where(Message.provider == provider)
    if before is not None:
        query = query.where(Message.updated_at <= before)
    chosen = list(session.scalars(query).all())
    if not chosen:
        return []
    detail = f"{action} decided by {actor}"
    if action == "resend":
        moved = set_status(
            session,
            chosen,
            now,
            to=MessageStatus.QUEUED,
            only_from=UNKNOWN,
            reason="operator",
            detail=detail,
            values={"not_before": None, "enqueued_at": now, "claim_token": None},
        )
    else:
        moved = set_status(
            session,
            chosen,
            now,
            to=MessageStatus.FAILED,
            only_from=UNKNOWN,
            reason="operator",
            detail=detail,
            values={"error": detail, "reason_detail": detail},
        )
    audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action=f"messages.resolve_unknown.{action}",
        target_type="messages",
        target_id=None,
        before={"status": "unknown", "ids": sorted(moved)},
        after={"status": "queued" if action == "resend" else "failed"},
        at=now,
    )
    return moved
