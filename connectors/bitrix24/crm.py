"""CRM events (deal, lead, smart-process item) → consent and stage-change events for the relay.

An event carries only the record's id (`data[FIELDS][ID]`). The job reads the record, its
contact and its stage history in one `batch` request, then decides from what the portal says
*now*, not from the order events arrived in:

- the current stage is the record's stage at fetch time; a late event for a stage the record
  has already left therefore produces nothing for that stage (the later event of the stage it
  is in now is a duplicate of what this job submits);
- the stage entry is identified by its stage-history record (`crm.stagehistory.list`), so a
  repeated event is a duplicate at the relay (same event_id) while a deal that really comes
  back to a stage gets a new message;
- a stage without a template on the settings page is skipped before any REST call is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.bitrix24 import mapping
from connectors.bitrix24.client import Bitrix24Client
from connectors.bitrix24.defaults import PLATFORM, REASON_TEXTS
from connectors.bitrix24.errors import B24Error
from shared.client import RelayClient, RelayClientError
from shared.connector import ConnectorContext, InboxRecord
from shared.installations import Installation

ENTITY_EVENTS = {  # event → entity kind
    "ONCRMDEALADD": "deal",
    "ONCRMDEALUPDATE": "deal",
    "ONCRMLEADADD": "lead",
    "ONCRMLEADUPDATE": "lead",
    "ONCRMDYNAMICITEMADD": "dynamic",
    "ONCRMDYNAMICITEMUPDATE": "dynamic",
}


@dataclass(frozen=True)
class EntitySpec:
    """How one CRM entity type is read."""

    kind: str  # "deal", "lead", "dynamic_128": also the timeline's ENTITY_TYPE
    entity_type_id: int
    get_method: str
    history_stage_field: str  # leads keep STATUS_ID in their history, the others STAGE_ID

    def get_params(self, item_id: str) -> dict[str, Any]:
        if self.get_method == "crm.item.get":
            return {"entityTypeId": self.entity_type_id, "id": item_id}
        return {"id": item_id}

    @property
    def contact_ref(self) -> str:
        """The batch reference to the record's contact id."""
        if self.get_method == "crm.item.get":
            return "$result[entity][item][contactId]"
        return "$result[entity][CONTACT_ID]"


def spec_for(kind: str, entity_type_id: int | None = None) -> EntitySpec:
    """The spec of "deal", "lead" or a smart process ("dynamic" + its entityTypeId)."""
    if kind == "deal":
        return EntitySpec("deal", 2, "crm.deal.get", "STAGE_ID")
    if kind == "lead":
        return EntitySpec("lead", 1, "crm.lead.get", "STATUS_ID")
    if entity_type_id is None or entity_type_id < 128:
        raise ValueError(f"a smart process needs its entityTypeId ≥ 128, got {entity_type_id!r}")
    return EntitySpec(f"dynamic_{entity_type_id}", entity_type_id, "crm.item.get", "STAGE_ID")


def normalise(spec: EntitySpec, raw: Any) -> dict[str, Any] | None:
    """The fields we use, whatever the entity type calls them."""
    if spec.get_method == "crm.item.get":
        item = raw.get("item") if isinstance(raw, dict) else None
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            return None
        return {
            "kind": spec.kind,
            "entity_type_id": spec.entity_type_id,
            "id": str(item["id"]),
            "stage": str(item.get("stageId") or ""),
            "title": item.get("title"),
            "contact_id": _id(item.get("contactId")),
            "opportunity": item.get("opportunity"),
            "currency": item.get("currencyId"),
            "category_id": item.get("categoryId"),
            "moved_time": item.get("movedTime"),
            "phones": None,
            "name": None,
            "fields": item,
        }
    if not isinstance(raw, dict) or "ID" not in raw:
        return None
    stage = raw.get("STATUS_ID") if spec.kind == "lead" else raw.get("STAGE_ID")
    return {
        "kind": spec.kind,
        "entity_type_id": spec.entity_type_id,
        "id": str(raw["ID"]),
        "stage": str(stage or ""),
        "title": raw.get("TITLE"),
        "contact_id": _id(raw.get("CONTACT_ID")),
        "opportunity": raw.get("OPPORTUNITY"),
        "currency": raw.get("CURRENCY_ID"),
        "category_id": raw.get("CATEGORY_ID"),
        "moved_time": raw.get("MOVED_TIME") or raw.get("DATE_MODIFY"),
        "phones": raw.get("PHONE"),
        "name": raw.get("NAME"),
        "fields": raw,
    }


def _id(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if text.isdigit() and text != "0" else None


@dataclass
class Snapshot:
    """The record, its contact and its stage history as read in one batch."""

    entity: dict[str, Any] | None
    contact: dict[str, Any] | None
    history: list[dict[str, Any]]
    problems: dict[str, B24Error]


def fetch(client: Bitrix24Client, spec: EntitySpec, item_id: str) -> Snapshot:
    """One `batch` request: the record, its contact (by reference) and its stage history."""
    results, errors = client.batch(
        {
            "entity": (spec.get_method, spec.get_params(item_id)),
            "contact": ("crm.contact.get", {"id": spec.contact_ref}),
            "history": (
                "crm.stagehistory.list",
                {
                    "entityTypeId": spec.entity_type_id,
                    "filter": {"OWNER_ID": item_id},
                    "order": {"ID": "DESC"},
                    "select": ["ID", "TYPE_ID", "CREATED_TIME", spec.history_stage_field],
                },
            ),
        }
    )
    history = results.get("history")
    items = history.get("items") if isinstance(history, dict) else None
    contact = results.get("contact")
    return Snapshot(
        entity=normalise(spec, results.get("entity")),
        contact=contact if isinstance(contact, dict) else None,
        history=[i for i in items if isinstance(i, dict)] if isinstance(items, list) else [],
        problems=errors,
    )


def stage_entry(
    spec: EntitySpec, entity: dict[str, Any], history: list[dict[str, Any]]
) -> tuple[str, datetime, str | None]:
    """(marker, time entered, previous stage) of the entity's current stage.

    Newest history record first; the entry is the newest record of the current stage. Without
    history (no access to it, or a portal that does not keep it) the time the record last
    moved stands in for it.
    """
    field = spec.history_stage_field
    for index, record in enumerate(history):
        if str(record.get(field) or "") == entity["stage"]:
            previous = next(
                (
                    str(r.get(field))
                    for r in history[index + 1 :]
                    if str(r.get(field) or "") not in ("", entity["stage"])
                ),
                None,
            )
            at = mapping.parse_time(record.get("CREATED_TIME")) or datetime.now(UTC)
            return f"h{record.get('ID')}", at, previous
    moved = mapping.parse_time(entity.get("moved_time"))
    if moved is not None:
        return f"m{int(moved.timestamp())}", moved, None
    return "m0", datetime.now(UTC), None


def inactive(inst: Installation | None) -> tuple[str, str]:
    """The outcome for a record whose installation cannot act: one flagged for reinstall is
    `failed` (replay it once the administrator has reinstalled), anything else `skipped`."""
    if inst is not None and inst.status == "needs_reinstall":
        return "failed", "installation needs_reinstall: replay after the app is reinstalled"
    return "skipped", f"installation is {inst.status if inst else 'missing'}"


def handle_crm_event(ctx: ConnectorContext, record: InboxRecord) -> tuple[str, str]:
    """Process one recorded CRM event; returns the inbox outcome (status, detail)."""
    payload, member_id = record.payload, record.account
    inst = ctx.store.get(PLATFORM, member_id)
    if inst is None or inst.status != "active":
        return inactive(inst)
    spec = spec_for(payload["kind"], payload.get("entity_type_id"))
    item_id = str(payload["id"])
    mapped = (inst.settings.get("stage_templates") or {}).get(spec.kind) or {}
    if not mapped:
        return "skipped", f"no stage of {spec.kind} is mapped to a template"
    client = Bitrix24Client.for_installation(ctx, member_id)
    snap = fetch(client, spec, item_id)
    if snap.entity is None:
        problem = snap.problems.get("entity")
        return "skipped", f"{spec.kind} {item_id} could not be read: {problem or 'not found'}"
    entity = snap.entity
    if entity["stage"] not in mapped:
        return "skipped", f"{spec.kind} {item_id} is in stage {entity['stage']}, not mapped"
    if entity["contact_id"] and snap.contact is None and not entity["phones"]:
        why = snap.problems.get("contact") or "not found"
        return "skipped", f"contact {entity['contact_id']} could not be read: {why}"
    phone, missing = _phone(spec, entity, snap.contact)
    if phone is None:
        return "skipped", missing
    relay = ctx.client_for(inst.tenant_id)
    notes = _submit_consent(relay, inst.settings, member_id, spec, snap, phone)
    marker, entered, previous = stage_entry(spec, entity, snap.history)
    event = mapping.stage_event(member_id, entity, phone, marker, entered, previous, snap.contact)
    try:
        result = relay.submit(event)
    except RelayClientError as exc:
        if exc.code == "event_id_conflict":
            return "skipped", f"stage entry {marker} of {spec.kind} {item_id} already decided"
        if exc.status is not None and 400 <= exc.status < 500:
            _comment_refusal(client, spec.kind, item_id, exc)
            return "skipped", f"relay refused the event: {exc.code}"
        raise
    if result.duplicate:
        return "skipped", f"duplicate: {spec.kind} {item_id} stage {entity['stage']} ({marker})"
    summary = (
        ", ".join(
            f"{m.get('id')} {m.get('status')}" + (f"/{m['reason']}" if m.get("reason") else "")
            for m in result.messages
        )
        or "no message planned"
    )
    return "done", f"{spec.kind} {item_id} → {entity['stage']}: {summary}{notes}"


def _phone(
    spec: EntitySpec, entity: dict[str, Any], contact: dict[str, Any] | None
) -> tuple[str | None, str]:
    """The number to text, or None and why there is none."""
    if contact is not None:
        phone = mapping.pick_phone(contact.get("PHONE")) or mapping.pick_phone(entity["phones"])
        return phone, f"contact {contact.get('ID') or entity['contact_id']} has no phone"
    phone = mapping.pick_phone(entity["phones"])
    if entity["phones"] is None and spec.kind != "lead":
        return phone, f"{spec.kind} {entity['id']} has no contact"
    return phone, f"{spec.kind} {entity['id']} has no phone"


def _submit_consent(
    relay: RelayClient,
    settings: dict[str, Any],
    member_id: str,
    spec: EntitySpec,
    snap: Snapshot,
    phone: str,
) -> str:
    """Record the consent field's current value in the relay's ledger (before the message).

    The field is read on the contact when it has it, else on the record itself.
    """
    field = str(settings.get("consent_field") or "")
    if not field or snap.entity is None:
        return ""
    if snap.contact is not None and field in snap.contact:
        source, owner = snap.contact, f"contact{snap.contact.get('ID')}"
    else:
        source, owner = snap.entity["fields"], f"{spec.kind}{snap.entity['id']}"
    granted = mapping.consent_value(source, field)
    if granted is None:
        return ""
    captured = mapping.parse_time(source.get("DATE_MODIFY") or source.get("updatedTime"))
    event = mapping.consent_event(
        member_id,
        owner,
        granted,
        phone,
        captured or datetime.now(UTC),
        field,
        str(settings.get("consent_wording") or ""),
    )
    try:
        relay.submit(event)
    except RelayClientError as exc:
        return f"; consent not recorded: {exc.code}"
    return f"; consent {'granted' if granted else 'revoked'}"


def _comment_refusal(
    client: Bitrix24Client, entity_type: str, item_id: str, exc: RelayClientError
) -> None:
    """Tell the manager in the timeline why no message went out (best effort)."""
    reason = REASON_TEXTS.get(exc.code, exc.code)
    try:
        client.call(
            "crm.timeline.comment.add",
            {
                "fields": {
                    "ENTITY_ID": item_id,
                    "ENTITY_TYPE": entity_type,
                    "COMMENT": f"SMS по смене стадии не отправлено: {reason}.",
                }
            },
        )
    except B24Error:
        pass
