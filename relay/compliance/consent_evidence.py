"""Consent evidence for one number: what a regulator or a court asks for after a complaint.

Every ledger record (wording, source, IP, user agent, when it was captured and recorded, the
event that brought it) and, under each grant, the marketing messages that relied on it: those
handed to a gateway while that grant was the record in force for their channel. "In force" is
decided by the policy's own rule (relay.policy.current_consent), at the time the message was
sent (its first `sent`/`sending` history entry), so the evidence matches what the policy did.
Archived messages (older than 12 months) are included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.compliance.consent_ledger import current_state, record_dict
from relay.messages.lifecycle import WITH_GATEWAY
from relay.messages.lifecycle import MessageStatus as _S
from relay.policy import ConsentRecord as PolicyConsent
from relay.policy import current_consent
from relay.storage.models import (
    ALL_CHANNELS,
    ConsentRecord,
    Event,
    Message,
    MessageHistory,
    Tenant,
    messages_archive,
)

# statuses of a message that reached (or may have reached) a gateway: it was sent on the
# strength of a consent. failed/blocked/cancelled/scheduled/queued never left the relay.
RELIED_STATUSES = (_S.SENDING, *WITH_GATEWAY)
RECORD_COLUMNS = (
    "record_id",
    "granted",
    "purpose",
    "channel",
    "source",
    "wording",
    "ip",
    "user_agent",
    "captured_at",
    "recorded_at",
    "event_id",
)
MESSAGE_COLUMNS = ("message_id", "message_channel", "message_status", "sent_at", "text")


def _messages(session: Session, tenant_id: str, phone: str) -> list[dict[str, Any]]:
    cols = ("id", "channel", "status", "text", "sender", "campaign_id", "created_at")
    live = session.execute(
        select(*(getattr(Message, c) for c in cols)).where(
            Message.tenant_id == tenant_id,
            Message.phone == phone,
            Message.category == "marketing",
            Message.status.in_(RELIED_STATUSES),
        )
    )
    archive = messages_archive.c
    old = session.execute(
        select(*(archive[c] for c in cols)).where(
            archive.tenant_id == tenant_id,
            archive.phone == phone,
            archive.category == "marketing",
            archive.status.in_(RELIED_STATUSES),
        )
    )
    found = [dict(zip(cols, row, strict=True)) for row in (*live, *old)]
    sent = _sent_times(session, [m["id"] for m in found])
    for m in found:
        m["sent_at"] = sent.get(m["id"], m["created_at"])
        if m["sent_at"].tzinfo is None:  # a raw min() on some backends loses the type
            m["sent_at"] = m["sent_at"].replace(tzinfo=UTC)
    return sorted(found, key=lambda m: m["sent_at"])


def _sent_times(session: Session, ids: list[str]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for status in (_S.SENDING, _S.SENT):  # "sent" (the gateway took it) wins when both exist
            for message_id, at in session.execute(
                select(MessageHistory.message_id, func.min(MessageHistory.at))
                .where(MessageHistory.message_id.in_(chunk), MessageHistory.status == status)
                .group_by(MessageHistory.message_id)
            ):
                out[message_id] = at
    return out


def evidence(session: Session, tenant: Tenant, phone: str, now: datetime) -> dict[str, Any]:
    """The evidence document for one number (JSON form; csv/xlsx are flattened from it)."""
    rows = session.execute(
        select(ConsentRecord, Event.event_id)
        .outerjoin(Event, Event.id == ConsentRecord.event_pk)
        .where(ConsentRecord.tenant_id == tenant.id, ConsentRecord.phone == phone)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    ).all()
    records = [{**record_dict(r), "event_id": event_id, "messages": []} for r, event_id in rows]
    marketing = [(r, out) for (r, _e), out in zip(rows, records, strict=True)]
    marketing = [(r, out) for r, out in marketing if r.purpose == "marketing"]
    policy = [
        PolicyConsent(
            granted=r.granted,
            channel=None if r.channel == ALL_CHANNELS else r.channel,
            source=r.source,
            recorded_at=r.recorded_at,
        )
        for r, _out in marketing
    ]
    unattributed = []
    for msg in _messages(session, tenant.id, phone):
        in_force = [p for p in policy if p.recorded_at <= msg["sent_at"]]
        found = current_consent(in_force, msg["channel"])
        entry = {
            "id": msg["id"],
            "channel": msg["channel"],
            "status": msg["status"],
            "sender": msg["sender"],
            "campaign_id": msg["campaign_id"],
            "text": msg["text"],
            "sent_at": msg["sent_at"].isoformat(),
        }
        if found is not None and found.granted:
            marketing[next(i for i, p in enumerate(policy) if p is found)][1]["messages"].append(
                entry
            )
        else:
            unattributed.append(entry)  # sent without a grant in force: shown, never hidden
    return {
        "phone": phone,
        "tenant": {"id": tenant.id, "name": tenant.name},
        "generated_at": now.isoformat(),
        "current": current_state(session, tenant.id, phone),
        "records": records,
        "messages_without_grant": unattributed,
    }


def _record_cells(record: dict[str, Any]) -> list[Any]:
    keys = ("id",) + RECORD_COLUMNS[1:]
    return [record.get(k) for k in keys]


def evidence_flat(doc: dict[str, Any]) -> Iterator[list[Any]]:
    """One csv row per (record, message); a record no message relied on gets one row."""
    for record in doc["records"]:
        cells = _record_cells(record)
        if not record["messages"]:
            yield cells + [None] * len(MESSAGE_COLUMNS)
        for m in record["messages"]:
            yield cells + [m["id"], m["channel"], m["status"], m["sent_at"], m["text"]]


def evidence_sheets(doc: dict[str, Any]) -> list[tuple[str, tuple[str, ...], list[list[Any]]]]:
    """Two sheets for xlsx: the records, and the messages with the record they relied on."""
    messages = [
        [record["id"], m["id"], m["channel"], m["status"], m["sent_at"], m["text"]]
        for record in doc["records"]
        for m in record["messages"]
    ]
    messages += [
        [None, m["id"], m["channel"], m["status"], m["sent_at"], m["text"]]
        for m in doc["messages_without_grant"]
    ]
    return [
        ("consents", RECORD_COLUMNS, [_record_cells(r) for r in doc["records"]]),
        ("messages", ("record_id", *MESSAGE_COLUMNS), messages),
    ]
