"""Reporting back to the portal (docs/architecture.md, 'Connectors': write-back).

- Messages the portal asked for through our SMS provider: every status change becomes
  `messageservice.message.status.update` (CODE, MESSAGE_ID, STATUS in queued | sent |
  delivered | undelivered | failed; a blocked message is `failed`), and a blocked or failed one
  also gets a timeline comment on its deal (or lead, contact …) with the reason.
- Messages of a stage change: a timeline comment (`crm.timeline.comment.add`, lowercase
  `fields`) when the message is blocked (with the reason), delivered or finally not delivered.
- Replies and survey scores: a timeline comment on the record the message came from.

The relay calls `handle` after every committed status change and may repeat it; each
(message, status) is recorded once in the inbox, so a repeat does nothing and the record is the
evidence of what was reported. Failures are recorded, never raised: one portal's trouble must
not stop the relay's write-back job for the other messages in the same batch.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from connectors.bitrix24.client import Bitrix24Client, mask_member
from connectors.bitrix24.config import B24Config
from connectors.bitrix24.defaults import (
    PLATFORM,
    PROVIDER_COMMENT_STATUSES,
    PROVIDER_STATUS,
    REASON_TEXTS,
    STAGE_COMMENT_STATUSES,
    STATUS_TEXTS,
)
from connectors.bitrix24.errors import B24Error
from shared.connector import ConnectorContext
from shared.phones import mask_phone
from shared.writeback import WritebackEvent

log = logging.getLogger("connectors.bitrix24.writeback")


def plan_calls(event: WritebackEvent, provider_code: str) -> list[tuple[str, dict[str, Any]]]:
    """The REST calls that report `event` (empty when there is nothing to say)."""
    b24 = (event.context.get("data") or {}).get("bitrix24") or {}
    entity_type, entity_id = b24.get("entity_type"), b24.get("entity_id")
    calls: list[tuple[str, dict[str, Any]]] = []
    comment = None
    if event.kind == "status_changed":
        status = event.status or ""
        reason = REASON_TEXTS.get(event.reason or "", event.reason or "")
        what = f"SMS на {mask_phone(event.phone)}: {STATUS_TEXTS.get(status, status)}"
        if b24.get("kind") == "sms" and b24.get("message_id"):
            if status in PROVIDER_STATUS:
                calls.append(
                    (
                        "messageservice.message.status.update",
                        {
                            "CODE": provider_code,
                            "MESSAGE_ID": b24["message_id"],
                            "STATUS": PROVIDER_STATUS[status],
                        },
                    )
                )
            if status in PROVIDER_COMMENT_STATUSES:
                comment = what + (f" — {reason}" if reason else "") + "."
        elif b24.get("kind") == "stage" and status in STAGE_COMMENT_STATUSES:
            comment = what + (f" — {reason}" if reason else "") + "."
            if status == "delivered" and event.text:
                comment += f"\nТекст: {event.text}"
    elif event.kind == "reply_received":
        comment = f"Ответ клиента ({mask_phone(event.phone)}): {event.text}"
    elif event.kind == "survey_answered":
        comment = f"Оценка клиента ({mask_phone(event.phone)}): {event.score} из 10"
        if event.text:
            comment += f"\nКомментарий: {event.text}"
    if comment and entity_type and entity_id:
        calls.append(
            (
                "crm.timeline.comment.add",
                {
                    "fields": {
                        "ENTITY_ID": str(entity_id),
                        "ENTITY_TYPE": str(entity_type),
                        "COMMENT": comment,
                    }
                },
            )
        )
    return calls


def dedupe_key(member_id: str, event: WritebackEvent) -> str:
    """One report per (message, status), per reply text, per survey answer."""
    if event.kind == "status_changed":
        what = f"{event.message_id}:{event.status}"
    else:
        digest = hashlib.sha256(f"{event.text}|{event.score}".encode()).hexdigest()[:16]
        what = f"{event.message_id}:{digest}"
    return f"{member_id}:wb:{event.kind}:{what}"[:255]


def run_calls(
    ctx: ConnectorContext, member_id: str, calls: list[tuple[str, dict[str, Any]]]
) -> str:
    """Make the calls in order; a later call is still tried when an earlier one failed."""
    client = Bitrix24Client.for_installation(ctx, member_id)
    failures = []
    for method, params in calls:
        try:
            client.call(method, params)
        except B24Error as exc:
            failures.append(str(exc))
    if failures:
        raise B24Error("writeback_failed", "; ".join(failures))
    return ", ".join(method for method, _ in calls)


class Bitrix24Writeback:
    """The connector's `shared.writeback.Writeback`."""

    platform = PLATFORM

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx

    def handle(self, event: WritebackEvent) -> None:
        """Report `event` to the portal it came from; repeats and strangers are ignored."""
        source = event.context.get("source") or {}
        member_id = source.get("account")
        if source.get("platform") != PLATFORM or not isinstance(member_id, str):
            return
        try:
            code = B24Config.from_context(self.ctx).provider_code
        except (RuntimeError, ValueError):
            log.error("write-back impossible: connector not configured")
            return
        calls = plan_calls(event, code)
        if not calls:
            return
        payload = {
            "kind": event.kind,
            "message_id": event.message_id,
            "status": event.status,
            "reason": event.reason,
            "calls": [[m, p] for m, p in calls],
        }
        record = self.ctx.inbox.record(
            PLATFORM, member_id, "writeback", payload, dedupe_key(member_id, event)
        )
        if record is None:
            return  # reported already
        try:
            done = run_calls(self.ctx, member_id, calls)
        except B24Error as exc:
            log.warning(
                "write-back failed", extra={"member": mask_member(member_id), "error": exc.code}
            )
            self.ctx.inbox.finish(record.id, "failed", str(exc))
            return
        self.ctx.inbox.finish(record.id, "done", done)
