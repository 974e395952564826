"""Notes on the lead: what the relay did with its messages, and what came back.

Notes are written by a job (`jobs.post_note`) from an inbox record, never inline: the record's
dedupe key (message id + what is reported) makes a repeated status report write nothing new,
and the job re-reads the record, so a redelivered job is harmless too.

Note types and params as amoCRM documents them: `sms_out` / `sms_in` with {"text", "phone"},
`common` with {"text"}; POST /api/v4/leads/{id}/notes takes a JSON array of notes.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from shared.connector import ConnectorContext

log = logging.getLogger("connectors.amocrm.notes")
PLATFORM = "amocrm"
NOTE_JOB = "connectors.amocrm.jobs.post_note"
# The block reasons (docs/architecture.md, 'API'), as a CRM user reads them.
BLOCK_REASONS = {
    "stop_list": "номер в стоп-листе",
    "no_consent": "нет согласия на рекламные сообщения",
    "frequency_cap": "превышен лимит сообщений за неделю",
    "invalid_phone": "некорректный номер телефона",
    "content_rule": "текст не прошёл проверку",
    "sender_not_allowed": "имя отправителя не разрешено",
    "tenant_disabled": "отправка отключена",
}
FAILED_STATUSES = {
    "undelivered": "не доставлено",
    "failed": "ошибка отправки",
    "expired": "срок доставки истёк",
}


def sms_out(text: str, phone: str) -> dict[str, Any]:
    """An outgoing-SMS note."""
    return {"note_type": "sms_out", "params": {"text": text, "phone": phone}}


def sms_in(text: str, phone: str) -> dict[str, Any]:
    """An incoming-SMS note (a reply)."""
    return {"note_type": "sms_in", "params": {"text": text, "phone": phone}}


def common(text: str) -> dict[str, Any]:
    """A plain text note."""
    return {"note_type": "common", "params": {"text": text}}


def blocked_text(reason: str | None) -> str:
    """The note for a message the relay refused to send."""
    why = BLOCK_REASONS.get(reason or "", reason or "причина не указана")
    return f"SMS не отправлено: {why}."


def text_key(text: str) -> str:
    """A short stable digest for dedupe keys built from free text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def queue_note(
    ctx: ConnectorContext, account: str, lead_id: int, note: dict[str, Any], dedupe_key: str
) -> int | None:
    """Record the note once and enqueue its job; the record id, or None when already queued."""
    record = ctx.inbox.record(
        PLATFORM, account, "note", {"lead_id": lead_id, "note": note}, dedupe_key[:255]
    )
    if record is None:
        return None  # this exact report was already written (or is being written)
    try:
        ctx.enqueue(NOTE_JOB, record.id)
    except Exception:  # Redis down: the record stays "received" for a re-run
        log.exception("could not enqueue amoCRM note", extra={"record": record.id})
    return record.id
