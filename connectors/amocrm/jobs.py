"""RQ jobs of the amoCRM connector. They receive an inbox record id and re-read the record.

`process_lead(record_id)`: a lead reached a stage → fetch the lead and its main contact →
submit consent (when a consent field is configured) and `order.status_changed` to the relay.
`post_note(record_id)`: write one note on a lead.

Outcomes go to the inbox record: done, skipped (with the reason: stage not configured, no
contact, no phone …) or failed (with the error). A transient amoCRM failure re-raises so RQ
keeps the failed job; a record that is no longer "received"/"failed" is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from connectors.amocrm import notes
from connectors.amocrm.config import AmoConfig, NotConfigured
from connectors.amocrm.errors import AmoApiError, AmoAuthError
from connectors.amocrm.install import client_for
from connectors.amocrm.mapping import (
    LeadChange,
    as_int,
    consent_event,
    consent_state,
    event_ids,
    main_contact_id,
    occurred_at,
    pick_phone,
    status_event,
)
from connectors.amocrm.settings import configured_stage
from shared.client import RelayClient, RelayClientError
from shared.connector import ConnectorContext, InboxRecord, get_context
from shared.events import Event
from shared.installations import Installation
from shared.phones import mask_phone

log = logging.getLogger("connectors.amocrm.jobs")
PLATFORM = "amocrm"
OPEN = ("received", "failed")
EPOCH = datetime.fromtimestamp(
    0, tz=UTC
)  # a failed record may be re-run; done/skipped ones are final


class Outcome(Exception):
    """Ends processing with an inbox status and detail (skips are outcomes, not errors)."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def process_lead(record_id: int) -> str:
    """Turn one recorded lead change into relay events; returns the recorded outcome."""
    ctx = get_context(PLATFORM)
    record = ctx.inbox.load(record_id)
    if record is None or record.status not in OPEN:
        return "already handled"
    try:
        status, detail = "done", _process(ctx, record)
    except Outcome as outcome:
        status, detail = outcome.status, outcome.detail
    except AmoAuthError as exc:
        status, detail = "failed", f"needs re-authorisation: {exc}"
    except NotConfigured as exc:
        status, detail = "failed", str(exc)
    except AmoApiError as exc:
        ctx.inbox.finish(record_id, "failed", f"amoCRM: {exc}")
        if exc.transient:
            raise  # RQ keeps the job in its failed registry for a re-run
        return "failed"
    ctx.inbox.finish(record_id, status, detail)
    log.info("amoCRM lead processed", extra={"record": record_id, "outcome": status})
    return status


def _installation(ctx: ConnectorContext, account: str) -> Installation:
    installation = ctx.store.get(PLATFORM, account)
    if installation is None:
        raise Outcome("skipped", f"no installation for {account}")
    if installation.status != "active":
        raise Outcome("skipped", f"the installation is {installation.status}")
    return installation


def _problem(ctx: ConnectorContext, record: InboxRecord, lead_id: int, why: str) -> Outcome:
    """Skip, and tell the CRM user on the lead why no SMS went out."""
    notes.queue_note(
        ctx,
        record.account,
        lead_id,
        notes.common(f"SMS не отправлено: {why}."),
        f"note:problem:{record.id}",
    )
    return Outcome("skipped", why)


def _process(ctx: ConnectorContext, record: InboxRecord) -> str:
    installation = _installation(ctx, record.account)
    settings = installation.settings
    payload = record.payload
    change = LeadChange.from_item(str(payload.get("action")), payload.get("item"))
    if change is None:
        raise Outcome("skipped", "the lead item has no numeric id or status_id")
    if not change.moved:
        raise Outcome("skipped", f"lead {change.lead_id} did not change stage")
    if configured_stage(settings, change.stage) is None:
        raise Outcome("skipped", f"stage {change.stage} is not configured to send")
    config = AmoConfig.from_mapping(ctx.config)
    client = client_for(ctx, config, record.account)
    lead = client.get_lead(change.lead_id)
    if lead is None:
        raise Outcome("skipped", f"lead {change.lead_id} no longer exists")
    contact_id = main_contact_id(lead)
    if contact_id is None:
        raise _problem(ctx, record, change.lead_id, "у сделки нет контакта")
    contact = client.get_contact(contact_id)
    if contact is None:
        raise _problem(ctx, record, change.lead_id, "контакт сделки не найден")
    region = settings.get("country") or config.default_region
    phone = pick_phone(contact, region)
    if phone is None:
        raise _problem(ctx, record, change.lead_id, "у контакта нет телефона")
    if change.last_modified is None:  # old-style webhook: the lead's own time keeps ids stable
        change = replace(change, last_modified=as_int(lead.get("updated_at")) or 0)
    when = occurred_at(change, fallback=EPOCH)
    status_id, consent_id = event_ids(str(settings.get("account_id")), change)
    relay = ctx.client_for(installation.tenant_id)
    granted = consent_state([contact, lead], as_int(settings.get("consent_field_id")))
    parts = []
    if granted is not None:  # first, so a marketing stage already sees the consent
        wording = settings.get("consent_wording")
        event = consent_event(consent_id, when, record.account, phone, granted, wording)
        parts.append(_submit(relay, event, ctx, record, change.lead_id))
    event = status_event(status_id, when, record.account, settings, change, contact, phone)
    summary = _submit(relay, event, ctx, record, change.lead_id)
    log.info(
        "amoCRM stage change submitted",
        extra={"lead": change.lead_id, "phone": mask_phone(phone), "event": status_id},
    )
    return "; ".join([*parts, summary])


def _submit(
    relay: RelayClient, event: Event, ctx: ConnectorContext, record: InboxRecord, lead_id: int
) -> str:
    """Submit one event; a summary of what the relay decided, or an Outcome on refusal."""
    try:
        result = relay.submit(event)
    except RelayClientError as exc:
        if exc.code == "event_id_conflict":  # a re-run after the lead changed: already in
            return f"{event.event_id}: already submitted"
        if exc.code in ("invalid_phone", "unsupported_country"):
            raise _problem(ctx, record, lead_id, "некорректный номер телефона") from None
        if exc.status is not None and exc.status < 500:
            raise Outcome("skipped", f"the relay refused {event.event_id}: {exc}") from None
        raise Outcome("failed", f"the relay failed on {event.event_id}: {exc}") from None
    if not result.messages:
        return f"{event.event_id}: no message planned"
    decided = ", ".join(
        f"{m.get('id')} {m.get('status')}" + (f" ({m['reason']})" if m.get("reason") else "")
        for m in result.messages
    )
    return f"{event.event_id}{' (duplicate)' if result.duplicate else ''}: {decided}"


def post_note(record_id: int) -> str:
    """Write one recorded note on its lead."""
    ctx = get_context(PLATFORM)
    record = ctx.inbox.load(record_id)
    if record is None or record.status not in OPEN:
        return "already handled"
    lead_id = as_int(record.payload.get("lead_id"))
    note = record.payload.get("note")
    try:
        _installation(ctx, record.account)
        if lead_id is None or not isinstance(note, dict):
            raise Outcome("skipped", "the note record has no lead id or note")
        client = client_for(ctx, AmoConfig.from_mapping(ctx.config), record.account)
        created = client.add_lead_notes(lead_id, [note])
    except Outcome as outcome:
        ctx.inbox.finish(record_id, outcome.status, outcome.detail)
        return outcome.status
    except AmoAuthError as exc:
        ctx.inbox.finish(record_id, "failed", f"needs re-authorisation: {exc}")
        return "failed"
    except NotConfigured as exc:
        ctx.inbox.finish(record_id, "failed", str(exc))
        return "failed"
    except AmoApiError as exc:
        ctx.inbox.finish(record_id, "failed", f"amoCRM: {exc}")
        if exc.transient:
            raise
        return "failed"
    ids = [str(n.get("id")) for n in created if isinstance(n, dict)]
    ctx.inbox.finish(record_id, "done", f"note {', '.join(ids) or '?'} on lead {lead_id}")
    return "done"
