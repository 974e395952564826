"""The evidence pack of one number: what a store hands to the antimonopoly service (ФАС /
МАРТ / АЗРК) after a complaint, as JSON and as a PDF in Russian or English.

- every consent record with its wording, source, IP, user agent and times, and the event that
  brought it;
- every message to the number (archived ones too) with its text, category, the decision and its
  reasons, the time zones the quiet hours were computed in, its status history and receipts;
- the stop-list's history for the number (entries added and removed, by whom, why) and the
  entries in force;
- opt-out reviews of the number's replies;
- the chain proof of each ledger record (place, link, hash), the tenant's chain verified now,
  and the latest signed digest with the public key that checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.adapters.pdf import PdfDocument
from relay.compliance.consent_ledger import current_state, record_dict
from relay.compliance.digests import digest_dict, key_id, public_key_hex, verify_chain
from relay.compliance.optout_review import review_dict
from relay.storage.models import (
    ConsentRecord,
    Event,
    LedgerDigest,
    Message,
    MessageHistory,
    OptoutReview,
    StopChange,
    StopEntry,
    Tenant,
    messages_archive,
)

RECEIPT_STATUSES = ("delivered", "undelivered", "read", "expired")
DEFER_REASONS = ("quiet_hours", "throttled")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _proof(row: Any) -> dict[str, Any]:
    return {"seq": row.chain_seq, "prev": row.chain_prev, "hash": row.chain_hash}


def _decision(
    status: str, reason: str | None, detail: str | None, history: list[dict[str, Any]]
) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = []
    for h in history:
        if h["reason"] and (h["reason"], h["detail"]) not in [
            (r["code"], r["detail"]) for r in reasons
        ]:
            reasons.append({"code": h["reason"], "detail": h["detail"], "at": h["at"]})
    if reason and not any(r["code"] == reason for r in reasons):
        reasons.append({"code": reason, "detail": detail, "at": None})
    if status == "blocked" or any(h["status"] == "blocked" for h in history):
        action = "block"
    elif any(r["code"] in DEFER_REASONS for r in reasons):
        action = "defer, then send" if status not in ("scheduled", "cancelled") else "defer"
    else:
        action = "send"
    return {"action": action, "reasons": reasons}


def _message_entry(values: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": values["id"],
        "created_at": _iso(values["created_at"]),
        "category": values["category"],
        "channel": values["channel"],
        "sender": values["sender"],
        "text": values["text"],
        "status": values["status"],
        "decision": _decision(values["status"], values["reason"], values["reason_detail"], history),
        "timezones": values["timezones"] or [],
        "not_before": _iso(values["not_before"]),
        "provider": values["provider"],
        "provider_message_id": values["provider_message_id"],
        "segments": values["segments"],
        "cost": str(values["cost"]) if values["cost"] is not None else None,
        "currency": values["currency"],
        "campaign_id": values["campaign_id"],
        "history": history,
        "receipts": [h for h in history if h["status"] in RECEIPT_STATUSES],
        "archived": values.get("archived", False),
    }


MESSAGE_COLUMNS = (
    "id",
    "created_at",
    "category",
    "channel",
    "sender",
    "text",
    "status",
    "reason",
    "reason_detail",
    "timezones",
    "not_before",
    "provider",
    "provider_message_id",
    "segments",
    "cost",
    "currency",
    "campaign_id",
    "context",
)


def _messages(session: Session, tenant_id: str, phone: str) -> list[dict[str, Any]]:
    live = [
        dict(zip(MESSAGE_COLUMNS, row, strict=True))
        for row in session.execute(
            select(*(getattr(Message, c) for c in MESSAGE_COLUMNS)).where(
                Message.tenant_id == tenant_id, Message.phone == phone
            )
        )
    ]
    history: dict[str, list[dict[str, Any]]] = {m["id"]: [] for m in live}
    ids = list(history)
    for start in range(0, len(ids), 500):
        for row in session.execute(
            select(MessageHistory)
            .where(MessageHistory.message_id.in_(ids[start : start + 500]))
            .order_by(MessageHistory.at, MessageHistory.id)
        ).scalars():
            history[row.message_id].append(
                {
                    "status": row.status,
                    "reason": row.reason,
                    "detail": row.detail,
                    "at": _iso(row.at),
                }
            )
    out = [_message_entry(m, history[m["id"]]) for m in live]
    archive = messages_archive.c
    for old in session.execute(
        select(*(archive[c] for c in MESSAGE_COLUMNS)).where(
            archive.tenant_id == tenant_id, archive.phone == phone
        )
    ):
        values = dict(zip(MESSAGE_COLUMNS, old, strict=True))
        values["archived"] = True
        folded = (values.get("context") or {}).get("history") or []
        out.append(_message_entry(values, list(folded)))
    return sorted(out, key=lambda m: (m["created_at"] or "", m["id"]))


def evidence_pack(
    session: Session, tenant: Tenant, phone: str, now: datetime, secret: str
) -> dict[str, Any]:
    """The evidence pack of one number, as JSON."""
    consents = session.execute(
        select(ConsentRecord, Event.event_id)
        .outerjoin(Event, Event.id == ConsentRecord.event_pk)
        .where(ConsentRecord.tenant_id == tenant.id, ConsentRecord.phone == phone)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    ).all()
    changes = session.scalars(
        select(StopChange)
        .where(StopChange.tenant_id == tenant.id, StopChange.phone == phone)
        .order_by(StopChange.at, StopChange.id)
    ).all()
    entries = session.scalars(
        select(StopEntry)
        .where(StopEntry.tenant_id == tenant.id, StopEntry.phone == phone)
        .order_by(StopEntry.created_at)
    ).all()
    reviews = session.scalars(
        select(OptoutReview)
        .where(OptoutReview.tenant_id == tenant.id, OptoutReview.phone == phone)
        .order_by(OptoutReview.id)
    ).all()
    report = verify_chain(session, tenant.id, secret)
    digest = session.scalar(
        select(LedgerDigest)
        .where(LedgerDigest.tenant_key == tenant.id)
        .order_by(LedgerDigest.id.desc())
        .limit(1)
    )
    public = public_key_hex(secret)
    return {
        "phone": phone,
        "tenant": {
            "id": tenant.id,
            "name": tenant.name,
            "region": tenant.region,
            "timezone": tenant.timezone,
            "display_name": (tenant.settings or {}).get("display_name") or tenant.name,
        },
        "generated_at": now.isoformat(),
        "consent": {
            "current": current_state(session, tenant.id, phone),
            "records": [
                {**record_dict(r), "event_id": event_id, "chain": _proof(r)}
                for r, event_id in consents
            ],
        },
        "messages": _messages(session, tenant.id, phone),
        "stoplist": {
            "in_force": [
                {
                    "id": e.id,
                    "channel": e.channel,
                    "source": e.source,
                    "note": e.note,
                    "created_at": _iso(e.created_at),
                }
                for e in entries
            ],
            "history": [
                {
                    "id": c.id,
                    "action": c.action,
                    "channel": c.channel,
                    "source": c.source,
                    "note": c.note,
                    "actor": c.actor,
                    "at": _iso(c.at),
                    "chain": _proof(c),
                }
                for c in changes
            ],
        },
        "optout_reviews": [review_dict(r) for r in reviews],
        "chain": {
            "verified": report.to_dict(),
            "algorithm": "SHA-256 over [prev, seq, table, content] (docs/compliance.md)",
            "latest_digest": digest_dict(digest, public) if digest else None,
            "public_key": public,
            "key_id": key_id(public),
        },
    }


# ---- the PDF ----------------------------------------------------------------------------------

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Доказательства по номеру {phone}",
        "footer": "Доказательства по номеру {phone} — {tenant} — сформировано {at}",
        "intro": "Отправитель: {tenant}. Документ сформирован {at} (UTC). Все записи журнала "
        "согласий, изменений стоп-листа и аудита связаны хеш-цепочкой; для каждой записи "
        "указано её место в цепочке и хеш. Те же данные в машиночитаемом виде — в JSON.",
        "consent": "1. Согласия на рекламу (журнал)",
        "current": "Действует сейчас",
        "none": "записей нет",
        "granted": "согласие",
        "revoked": "отзыв",
        "kind": "Запись",
        "channel": "Канал",
        "source": "Источник",
        "wording": "Текст согласия",
        "ip": "IP-адрес",
        "user_agent": "Браузер (User-Agent)",
        "captured_at": "Получено",
        "recorded_at": "Записано",
        "event_id": "Событие",
        "chain": "Цепочка (место, хеш)",
        "messages": "2. Сообщения",
        "category": "Категория",
        "text": "Текст",
        "status": "Статус",
        "decision": "Решение",
        "reasons": "Причины",
        "zones": "Часовые пояса (тихие часы)",
        "history": "История статусов",
        "receipts": "Отчёты о доставке",
        "provider": "Шлюз, номер у шлюза",
        "created_at": "Создано",
        "stoplist": "3. Стоп-лист",
        "in_force": "Действующие записи",
        "changes": "История изменений",
        "reviews": "4. Ответы, отправленные на проверку (отказ от рассылки)",
        "proof": "5. Целостность журнала",
        "chain_ok": "Цепочка проверена {at}: записей {records}, последняя {seq}, хеш {hash}.",
        "chain_broken": "ВНИМАНИЕ: цепочка нарушена — {kind}: {table} #{id} (место {seq}): "
        "{detail}",
        "digest": "Последний подписанный дайджест ({day}): место {seq}, хеш {hash}, "
        "подпись Ed25519 {signature}",
        "public_key": "Открытый ключ Ed25519 (hex): {key}",
        "no_digest": "Подписанных дайджестов пока нет.",
    },
    "en": {
        "title": "Evidence for {phone}",
        "footer": "Evidence for {phone} — {tenant} — generated {at}",
        "intro": "Sender: {tenant}. Generated {at} (UTC). Every record of the consent ledger, "
        "the stop-list changes and the audit log is hash-chained; each record shows its place "
        "in the chain and its hash. The same data in machine-readable form is in the JSON.",
        "consent": "1. Advertising consent (ledger)",
        "current": "In force now",
        "none": "no records",
        "granted": "grant",
        "revoked": "revocation",
        "kind": "Record",
        "channel": "Channel",
        "source": "Source",
        "wording": "Wording shown",
        "ip": "IP address",
        "user_agent": "User agent",
        "captured_at": "Captured",
        "recorded_at": "Recorded",
        "event_id": "Event",
        "chain": "Chain (place, hash)",
        "messages": "2. Messages",
        "category": "Category",
        "text": "Text",
        "status": "Status",
        "decision": "Decision",
        "reasons": "Reasons",
        "zones": "Time zones (quiet hours)",
        "history": "Status history",
        "receipts": "Delivery receipts",
        "provider": "Gateway, gateway id",
        "created_at": "Created",
        "stoplist": "3. Stop-list",
        "in_force": "Entries in force",
        "changes": "History of changes",
        "reviews": "4. Replies held for an opt-out review",
        "proof": "5. Integrity of the ledger",
        "chain_ok": "Chain verified {at}: {records} records, last place {seq}, hash {hash}.",
        "chain_broken": "WARNING: the chain is broken — {kind}: {table} #{id} (place {seq}): "
        "{detail}",
        "digest": "Latest signed digest ({day}): place {seq}, hash {hash}, Ed25519 signature "
        "{signature}",
        "public_key": "Ed25519 public key (hex): {key}",
        "no_digest": "No signed digest yet.",
    },
}


def _history_lines(items: Iterable[dict[str, Any]]) -> str:
    return "\n".join(
        f"{h.get('at')}  {h.get('status')}"
        + (f" ({h['reason']})" if h.get("reason") else "")
        + (f": {h['detail']}" if h.get("detail") else "")
        for h in items
    )


def evidence_pdf(doc: dict[str, Any], lang: str = "ru") -> bytes:
    """The evidence pack as a PDF in Russian (`ru`) or English (`en`)."""
    t = LABELS[lang]
    tenant = doc["tenant"]["display_name"]
    at = doc["generated_at"]
    pdf = PdfDocument(
        t["title"].format(phone=doc["phone"]),
        footer=t["footer"].format(phone=doc["phone"], tenant=tenant, at=at[:19]),
    )
    pdf.para(t["intro"].format(tenant=tenant, at=at[:19]))

    pdf.heading(t["consent"])
    current = doc["consent"]["current"]
    pdf.rows(
        (
            f"{t['current']}: {channel}",
            (t["granted"] if state["granted"] else t["revoked"]) + f" #{state['record']['id']}"
            if state
            else t["none"],
        )
        for channel, state in current.items()
    )
    if not doc["consent"]["records"]:
        pdf.para(t["none"])
    for r in doc["consent"]["records"]:
        pdf.rows(
            [
                (t["kind"], f"#{r['id']} — " + (t["granted"] if r["granted"] else t["revoked"])),
                (t["channel"], r["channel"]),
                (t["source"], r["source"]),
                (t["wording"], r["wording"]),
                (t["ip"], r["ip"]),
                (t["user_agent"], r["user_agent"]),
                (t["captured_at"], r["captured_at"]),
                (t["recorded_at"], r["recorded_at"]),
                (t["event_id"], r["event_id"]),
                (t["chain"], f"{r['chain']['seq']}, {r['chain']['hash']}"),
            ]
        )
        pdf.rule()

    pdf.heading(t["messages"])
    if not doc["messages"]:
        pdf.para(t["none"])
    for m in doc["messages"]:
        reasons = "\n".join(
            f"{r['code']}: {r['detail'] or ''}".rstrip(": ") for r in m["decision"]["reasons"]
        )
        pdf.rows(
            [
                ("ID", m["id"]),
                (t["created_at"], m["created_at"]),
                (
                    t["category"],
                    f"{m['category']}, {m['channel']}, {m['sender'] or ''}".rstrip(", "),
                ),
                (t["text"], m["text"]),
                (t["status"], m["status"]),
                (t["decision"], m["decision"]["action"]),
                (t["reasons"], reasons),
                (t["zones"], ", ".join(m["timezones"])),
                (t["history"], _history_lines(m["history"])),
                (t["receipts"], _history_lines(m["receipts"])),
                (
                    t["provider"],
                    ", ".join(x for x in (m["provider"], m["provider_message_id"]) if x),
                ),
            ]
        )
        pdf.rule()

    pdf.heading(t["stoplist"])
    pdf.para(t["in_force"] + ":")
    if doc["stoplist"]["in_force"]:
        pdf.table(
            (t["channel"], t["source"], "note", t["created_at"]),
            [
                (e["channel"], e["source"], e["note"], e["created_at"])
                for e in doc["stoplist"]["in_force"]
            ],
        )
    else:
        pdf.para(t["none"])
    pdf.para(t["changes"] + ":")
    if doc["stoplist"]["history"]:
        pdf.table(
            ("at", "action", t["channel"], t["source"], "actor", "note", t["chain"]),
            [
                (
                    c["at"],
                    c["action"],
                    c["channel"],
                    c["source"],
                    c["actor"],
                    c["note"],
                    f"{c['chain']['seq']}, {(c['chain']['hash'] or '')[:16]}…",
                )
                for c in doc["stoplist"]["history"]
            ],
        )
    else:
        pdf.para(t["none"])

    pdf.heading(t["reviews"])
    if doc["optout_reviews"]:
        pdf.table(
            ("#", t["text"], t["status"], "decided_by", "decided_at"),
            [
                (r["id"], r["text"], r["status"], r["decided_by"], r["decided_at"])
                for r in doc["optout_reviews"]
            ],
        )
    else:
        pdf.para(t["none"])

    pdf.heading(t["proof"])
    verified = doc["chain"]["verified"]
    if verified["ok"]:
        pdf.para(
            t["chain_ok"].format(
                at=at[:19],
                records=verified["records"],
                seq=verified["head_seq"],
                hash=verified["head_hash"],
            )
        )
    else:
        p = verified["problem"]
        pdf.para(
            t["chain_broken"].format(
                kind=p["kind"], table=p["table"], id=p["id"], seq=p["seq"], detail=p["detail"]
            )
        )
    digest = doc["chain"]["latest_digest"]
    if digest:
        pdf.para(t["digest"].format(**digest))
    else:
        pdf.para(t["no_digest"])
    pdf.para(t["public_key"].format(key=doc["chain"]["public_key"]))
    pdf.para(doc["chain"]["algorithm"])
    return pdf.output()
