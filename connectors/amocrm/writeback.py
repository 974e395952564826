"""Write-back: what happened to a message becomes a note on the lead it came from.

- sent (or already delivered, read, undelivered, expired) → an outgoing-SMS note
  (`sms_out`: the text and the phone);
- blocked → a common note with the reason; undelivered / failed / expired → a common note;
- a reply → an incoming-SMS note (`sms_in`); a survey answer → a common note with the score.

The relay calls `handle()` after every committed status change and may repeat itself; each
note is recorded once per (message, what is reported) in the inbox before its job writes it,
so repeats write nothing. The lead comes from the message's stored context (`data.lead_id`,
put there by jobs.process_lead; `order.id` as a fallback).
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.amocrm import notes
from connectors.amocrm.mapping import as_int
from shared.connector import ConnectorContext
from shared.phones import mask_phone
from shared.writeback import WritebackEvent

log = logging.getLogger("connectors.amocrm.writeback")
PLATFORM = "amocrm"
# statuses a message only reaches after it went out (failed may mean it never did)
SENT_STATUSES = ("sent", "delivered", "read", "undelivered", "expired")


class AmoWriteback:
    """The amoCRM Writeback registered with the relay."""

    platform = PLATFORM

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx

    def handle(self, event: WritebackEvent) -> None:
        """Queue the note this event calls for, once."""
        source = event.context.get("source") or {}
        if source.get("platform") != PLATFORM or not source.get("account"):
            return  # another connector's message (or one sent through the API)
        data = event.context.get("data") or {}
        order = event.context.get("order") or {}
        lead_id = as_int(data.get("lead_id")) or as_int(order.get("id"))
        if lead_id is None:
            log.info("no lead to write to", extra={"message_id": event.message_id})
            return
        for note, key in self._notes(event):
            queued = notes.queue_note(self.ctx, str(source["account"]), lead_id, note, key)
            log.info(
                "amoCRM note queued" if queued else "amoCRM note already queued",
                extra={
                    "lead": lead_id,
                    "kind": event.kind,
                    "status": event.status,
                    "phone": mask_phone(event.phone),
                },
            )

    @staticmethod
    def _notes(event: WritebackEvent) -> list[tuple[dict[str, Any], str]]:
        """(note, dedupe key) pairs for an event; empty when the CRM need not hear about it.

        The relay reports a message's *current* status, so a fast receipt may turn "sent"
        into "delivered" before we hear of it: every status after sending implies the
        outgoing-SMS note (same key, so it is written once).
        """
        ref = event.message_id or event.phone
        if event.kind == "reply_received":
            text = event.text or ""
            return [(notes.sms_in(text, event.phone), f"note:reply:{ref}:{notes.text_key(text)}")]
        if event.kind == "survey_answered":
            said = (event.text or "").strip()
            answer = f". Ответ: {said}" if said and said != str(event.score) else ""
            text = f"Оценка в опросе: {event.score}{answer}"
            return [(notes.common(text), f"note:survey:{ref}:{event.score}")]
        planned: list[tuple[dict[str, Any], str]] = []
        if event.status in SENT_STATUSES:
            sms = (
                notes.sms_out(event.text, event.phone)
                if event.text
                else notes.common(f"SMS отправлено на {event.phone}.")
            )
            planned.append((sms, f"note:{ref}:sent"))
        if event.status == "blocked":
            planned.append((notes.common(notes.blocked_text(event.reason)), f"note:{ref}:blocked"))
        if event.status in notes.FAILED_STATUSES:
            # one failure note per message, whichever final failure status came first
            why = notes.FAILED_STATUSES[event.status]
            planned.append((notes.common(f"SMS на {event.phone}: {why}."), f"note:{ref}:failed"))
        return planned  # queued, cancelled, unknown …: nothing worth a note
