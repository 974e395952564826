"""Jobs run by the relay's RQ workers: turn a recorded delivery into relay events.

A job receives only the inbox id and re-reads the record, so a job that runs twice (RQ
redelivery, the webhook handler's inline fallback) finds the record finished and stops; a job
that died half-way is safe to run again because every event id is deterministic and the relay
dedupes on it.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.woocommerce import state
from connectors.woocommerce.mapping import PLATFORM, NotAnOrder, plan_delivery
from shared.client import RelayClientError
from shared.connector import ConnectorContext, get_context
from shared.phones import mask_phones_in_text

log = logging.getLogger("connectors.woocommerce.jobs")
ACCEPTING = ("active", "needs_reauth")  # a bad REST key must not stop the order messages
PROCESS_JOB = "connectors.woocommerce.jobs.process_delivery"


def process_delivery(inbox_id: int) -> str:
    """RQ entry point: process one recorded webhook delivery; returns its final status."""
    return process(get_context(PLATFORM), inbox_id)


def _finish(ctx: ConnectorContext, inbox_id: int, status: str, parts: list[str]) -> str:
    detail = mask_phones_in_text("; ".join(parts))[:2000]
    ctx.inbox.finish(inbox_id, status, detail or None)
    log.info("woocommerce delivery %s: %s", status, detail, extra={"inbox_id": inbox_id})
    return status


def process(ctx: ConnectorContext, inbox_id: int) -> str:
    """Map the delivery, submit its events, remember the order's status, finish the record.

    Relay refusals (4xx) finish the record as failed with the reason; an unreachable relay
    raises, leaving the record `received` for a retry of the job.
    """
    record = ctx.inbox.load(inbox_id)
    if record is None:
        return "missing"
    if record.status != "received":
        return record.status  # already processed: this is a repeated job
    installation = ctx.store.get(PLATFORM, record.account)
    if installation is None or installation.status not in ACCEPTING:
        why = installation.status if installation else "removed"
        return _finish(ctx, inbox_id, "skipped", [f"installation_{why}"])
    payload: dict[str, Any] = record.payload
    body = found if isinstance(found := payload.get("body"), dict) else {}
    topic = str(payload.get("topic") or "")
    try:
        order_id = str(body.get("id", ""))
        plan = plan_delivery(
            topic,
            body,
            record.account,
            state.last_seen(installation, order_id),
            installation.settings.get("default_region"),
            payload.get("delivery"),
        )
    except NotAnOrder as exc:
        return _finish(ctx, inbox_id, "skipped", [f"not_an_order: {exc}"])
    parts: list[str] = []
    sent = 0
    client = ctx.client_for(installation.tenant_id)
    for event in plan.events:
        try:
            result = client.submit(event)
        except RelayClientError as exc:
            if exc.code == "event_id_conflict":
                # Same order and status seen before with another body (e.g. order.created and
                # order.updated both showing "processing"): the relay already has it.
                parts.append(f"{event.event_id}: already reported")
                continue
            if exc.status is not None and 400 <= exc.status < 500:
                parts.append(f"{event.event_id}: relay refused: {exc.code}: {exc.message}")
                return _finish(ctx, inbox_id, "failed", parts + plan.skips)
            raise
        sent += 1
        messages = ", ".join(
            f"{m.get('id')} {m.get('status')}"
            + (f" ({m.get('reason')})" if m.get("reason") else "")
            for m in result.messages
        )
        dup = " (duplicate)" if result.duplicate else ""
        parts.append(f"{event.type} {event.event_id}{dup}: [{messages}]")
    if plan.seen is not None and plan.order_id is not None:
        state.remember(ctx.store, record.account, plan.order_id, plan.seen)
    return _finish(ctx, inbox_id, "done" if sent else "skipped", parts + plan.skips)
