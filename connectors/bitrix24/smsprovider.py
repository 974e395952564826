"""The relay as Bitrix24's SMS provider (messageservice).

Bitrix24 posts to our HANDLER (messageservice-sender-add.md, tutorial "Как подключить
СМС-провайдера"): `type`, `code`, `message_id`, `message_to`, `message_body`, `module_id`
(`crm` from a deal card, `bizproc` from a robot or workflow), `bindings` (crm:
`[{OWNER_TYPE_ID, OWNER_ID}]`), `document_id` (bizproc: `["crm", "CCrmDocumentDeal",
"DEAL_42"]`), `properties`, `ts`, `auth[...]`. Each becomes a `message.requested` event, so a
manager's SMS and a robot's go through the same policy as everything else; the outcome goes
back with `messageservice.message.status.update` from the write-back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from connectors.bitrix24 import mapping
from connectors.bitrix24.client import Bitrix24Client
from connectors.bitrix24.config import B24Config
from connectors.bitrix24.crm import inactive
from connectors.bitrix24.defaults import PLATFORM, REASON_TEXTS
from connectors.bitrix24.errors import B24Error
from connectors.bitrix24.forms import as_list
from shared.client import RelayClientError
from shared.connector import ConnectorContext, InboxRecord

OWNER_TYPES = {"1": "lead", "2": "deal", "3": "contact", "4": "company"}
BINDING_PREFERENCE = ("deal", "lead", "dynamic", "contact", "company")
_DOCUMENT = re.compile(r"^(LEAD|DEAL|CONTACT|COMPANY)_(\d+)$|^DYNAMIC_(\d+)_(\d+)$")


def _entity_type(owner_type_id: str) -> str | None:
    if owner_type_id in OWNER_TYPES:
        return OWNER_TYPES[owner_type_id]
    if owner_type_id.isdigit() and int(owner_type_id) >= 128:
        return f"dynamic_{owner_type_id}"
    return None


def target_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The CRM record the message belongs to (for the timeline), from bindings or document_id.

    With several bindings a deal wins over a lead over a contact: a deal card's SMS is bound
    to the deal and its contact, and the manager reads the deal's timeline.
    """
    found: dict[str, str] = {}
    for binding in as_list(fields.get("bindings")):
        if not isinstance(binding, dict):
            continue
        kind = _entity_type(str(binding.get("OWNER_TYPE_ID") or ""))
        owner = str(binding.get("OWNER_ID") or "")
        if kind and owner.isdigit():
            found.setdefault(kind, owner)
    document = as_list(fields.get("document_id"))
    match = _DOCUMENT.match(str(document[-1])) if document else None
    if match:
        if match.group(1):
            found.setdefault(match.group(1).lower(), match.group(2))
        else:
            found.setdefault(f"dynamic_{match.group(3)}", match.group(4))
    target: dict[str, Any] = {"contact_id": found.get("contact")}
    for wanted in BINDING_PREFERENCE:
        kind = next((k for k in found if k == wanted or k.startswith(wanted + "_")), None)
        if kind:
            target.update(entity_type=kind, entity_id=found[kind])
            break
    return target


def parse_request(fields: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The inbox payload of a handler call, or the missing/invalid fields."""
    errors: dict[str, list[str]] = {}
    for name in ("message_id", "message_to", "message_body", "code"):
        if not isinstance(fields.get(name), str) or not fields[name].strip():
            errors[name] = ["required"]
    if fields.get("type") not in (None, "SMS"):
        errors["type"] = ["only SMS providers are registered"]
    if errors:
        return None, errors
    payload = {
        "message_id": fields["message_id"].strip(),
        "message_to": fields["message_to"].strip(),
        "message_body": fields["message_body"],
        "code": fields["code"].strip(),
        "module_id": str(fields.get("module_id") or ""),
        "ts": str(fields.get("ts") or ""),
        "target": target_of(fields),
    }
    return payload, {}


def handle_sms(ctx: ConnectorContext, record: InboxRecord) -> tuple[str, str]:
    """Submit one provider request as `message.requested`; returns the inbox outcome."""
    payload, member_id = record.payload, record.account
    inst = ctx.store.get(PLATFORM, member_id)
    if inst is None or inst.status != "active":
        return inactive(inst)
    settings = inst.settings
    occurred = mapping.parse_time(payload.get("ts")) or datetime.now(UTC)
    category = settings.get("provider_category") or "transactional"
    try:
        event = mapping.provider_event(
            member_id,
            payload["message_id"],
            payload["message_to"],
            payload["message_body"],
            occurred,
            category,
            settings.get("sender") or None,
            payload["target"],
        )
    except ValueError as exc:
        return _refuse(ctx, member_id, payload, "invalid_request", str(exc))
    try:
        result = ctx.client_for(inst.tenant_id).submit(event)
    except RelayClientError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            return _refuse(ctx, member_id, payload, exc.code, exc.message)
        raise
    summary = ", ".join(
        f"{m.get('id')} {m.get('status')}" + (f"/{m['reason']}" if m.get("reason") else "")
        for m in result.messages
    )
    word = "duplicate" if result.duplicate else "submitted"
    return "done", f"sms {payload['message_id']} {word}: {summary or 'no message'}"


def _refuse(
    ctx: ConnectorContext, member_id: str, payload: dict[str, Any], code: str, detail: str
) -> tuple[str, str]:
    """The relay would not take the request: no write-back will come, so report here."""
    cfg = B24Config.from_context(ctx)
    client = Bitrix24Client.for_installation(ctx, member_id, cfg=cfg)
    client.call(
        "messageservice.message.status.update",
        {
            "CODE": payload["code"] or cfg.provider_code,
            "MESSAGE_ID": payload["message_id"],
            "STATUS": "failed",
        },
    )
    target = payload.get("target") or {}
    if target.get("entity_type") and target.get("entity_id"):
        reason = REASON_TEXTS.get(code, code)
        try:
            client.call(
                "crm.timeline.comment.add",
                {
                    "fields": {
                        "ENTITY_ID": target["entity_id"],
                        "ENTITY_TYPE": target["entity_type"],
                        "COMMENT": f"SMS не отправлено: {reason}.",
                    }
                },
            )
        except B24Error:
            pass  # the status already says failed; the comment is a courtesy
    return "skipped", f"relay refused sms {payload['message_id']}: {code}: {detail}"[:2000]
