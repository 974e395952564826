"""Handling an inbound message: route it, act on keywords, score surveys, forward the rest.

Runs as a job (`relay.jobs.handle_inbound`) after the callback stored the message, so the
gateway gets its answer at once; the job re-reads the row and does nothing if it was already
handled, so a redelivered job is harmless. Nothing here changes a stop-list except for a
message that came in through an authenticated gateway callback. A reply is forwarded by two
jobs on the write-back queue (`relay.jobs.reply_writeback`): one to the tenant's CRM through its
connector's write-back, one to its webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rq import Queue, Retry
from sqlalchemy import select

from relay.compliance.optout_review import open_review
from relay.compliance.stoplist import add_stop, lift_keyword_stops
from relay.messages.lifecycle import MessageStatus, NewMessage, set_status
from relay.messages.messages import PlannedMessage, apply_segments, new_message
from relay.platforms.writeback import WRITEBACK_QUEUE
from relay.policy.keywords import HELP, OPT_IN, OPT_OUT
from relay.policy.optout import UNSURE, understand
from relay.replies.reply_webhook import post_webhook
from relay.replies.routing import Route, last_message, route_reply
from relay.replies.surveys import add_comment, open_survey_message, parse_score, record_answer
from relay.storage.models import ALL_CHANNELS, ConsentRecord, InboundMessage, Message, Tenant
from relay.tenancy.settings import merged_settings
from shared.phones import PhoneError, normalize_phone
from shared.writeback import WritebackEvent

log = logging.getLogger("relay.replies")

DEFAULT_REPLIES = {
    OPT_OUT: "Вы отписались от сообщений {tenant}. Возобновить: START",
    OPT_IN: "Вы снова получаете сообщения {tenant}. Отказ: STOP",
    HELP: "{tenant}: уведомления о заказах. Отказ: STOP, возобновить: START",
}


def handle_inbound(rt: Any, inbound_ids: Sequence[int]) -> dict[int, str]:
    """Handle each stored inbound message once; returns id → what it was handled as."""
    outcome: dict[int, str] = {}
    for inbound_id in inbound_ids:
        with rt.session() as session:
            row = session.get(InboundMessage, inbound_id)
            if row is None or row.handled_as:
                continue
            # judged at the time the reply arrived, not when this job happens to run
            handled, forward = _handle(rt, session, row, row.received_at or rt.now())
            row.handled_as = handled
            session.commit()
            outcome[inbound_id] = handled
        if forward:
            forward_reply(rt, forward)
    return outcome


def _handle(
    rt: Any, session: Any, row: InboundMessage, now: datetime
) -> tuple[str, dict[str, Any] | None]:
    if row.kind == "call":
        row.detail = "an inbound call reported as a message"
    try:
        phone = normalize_phone(row.sender, None)
    except (PhoneError, ValueError):
        row.detail = "the sender is not a phone number; nothing changed"
        return "invalid_sender", None
    if row.tenant_id and row.routing == "sandbox":  # a sandbox reply names its tenant itself
        route = Route(
            row.tenant_id,
            "sandbox",
            row.text or "",
            last_message(session, row.tenant_id, phone, now),
        )
    else:
        route = route_reply(session, row, phone, now)
    row.routing, row.message_id = route.how, route.message_id
    if route.tenant_id is None:
        return "unrouted", None
    row.tenant_id = route.tenant_id
    if row.kind == "call":
        return "call", None
    text = route.text.strip()
    if not text:
        row.detail = "empty text"
        return "empty", None
    tenant = session.get(Tenant, route.tenant_id)
    settings = merged_settings(tenant)
    # the exact keywords, then the recogniser of opt-outs in people's own words
    match = understand(text, settings.get("keywords"))
    if match.acts:
        _act_on_keyword(session, tenant, phone, match, row, now)
        row.detail = row.detail or match.why
        return str(match.kind), None
    if match.kind == UNSURE:
        # a person decides; marketing to the number is held meanwhile
        review = open_review(session, tenant.id, phone, text, match.why, row.id, now)
        row.detail = f"opt-out review #{review.id}: {match.why}"
    survey = open_survey_message(session, tenant.id, phone, now)
    score = parse_score(text)
    if survey and score:
        msg, survey_row = survey
        answer = record_answer(session, msg, survey_row, score, row.id, now)
        if answer is not None:
            if score.score <= 6 and survey_row.followup_text and not score.comment:
                _reply(session, tenant, phone, survey_row.followup_text, now, confirmation=False)
            elif survey_row.thanks_text:
                _reply(session, tenant, phone, survey_row.thanks_text, now, confirmation=False)
            return "survey_answer", _forward_payload(tenant, phone, text, row, msg, score.score)
    if add_comment(session, tenant.id, phone, text, now):
        return "survey_comment", _forward_payload(tenant, phone, text, row, None, None)
    handled = "optout_review" if match.kind == UNSURE else "reply"
    return handled, _forward_payload(tenant, phone, text, row, None, None)


def _act_on_keyword(
    session: Any, tenant: Tenant, phone: str, match: Any, row: InboundMessage, now: datetime
) -> None:
    channel = ALL_CHANNELS if match.all_channels else "sms"
    if match.kind == OPT_OUT:
        add_stop(
            session,
            tenant.id,
            phone,
            "keyword",
            now,
            channel=channel,
            note=f"reply {row.text[:60]!r} via {row.provider}",
        )
        session.add(
            ConsentRecord(
                tenant_id=tenant.id,
                phone=phone,
                purpose="marketing",
                channel=ALL_CHANNELS,
                granted=False,
                source="keyword",
                wording=row.text[:500],
                captured_at=now,
                recorded_at=now,
            )
        )
    elif match.kind == OPT_IN:
        lifted = lift_keyword_stops(session, tenant.id, phone, now=now)
        row.detail = f"lifted {lifted} keyword stop-list entr{'y' if lifted == 1 else 'ies'}"
    text = (merged_settings(tenant).get("replies") or {}).get(match.kind) or DEFAULT_REPLIES[
        match.kind
    ]
    name = (tenant.settings or {}).get("display_name") or tenant.name
    _reply(session, tenant, phone, text.format(tenant=name), now, confirmation=True)


def _reply(
    session: Any, tenant: Tenant, phone: str, text: str, now: datetime, confirmation: bool
) -> str:
    """Queue one transactional reply; a keyword confirmation ignores quiet hours and the
    stop-list entry it confirms (PolicyMessage.confirmation)."""
    plan = PlannedMessage(
        phone=phone, channel="sms", category="transactional", text=text, urgent=confirmation
    )
    context = {"source": {"platform": "relay", "account": "replies"}, "confirmation": confirmation}
    msg = new_message(tenant.id, None, plan, context, now)
    msg.enqueued_at = now
    apply_segments(msg, (tenant.settings or {}).get("tariffs"))
    history = "reply to an inbound message"
    set_status(session, [NewMessage(msg, MessageStatus.QUEUED, history_detail=history)], now)
    return msg.id


def _forward_payload(
    tenant: Tenant,
    phone: str,
    text: str,
    row: InboundMessage,
    survey_msg: Message | None,
    score: int | None,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "phone": phone,
        "text": text,
        "inbound_id": row.id,
        "message_id": survey_msg.id if survey_msg else row.message_id,
        "score": score,
        "received_at": row.received_at.isoformat(),
    }


def forward_reply(rt: Any, payload: dict[str, Any]) -> None:
    """Hand a reply to the tenant's CRM (its connector's write-back) and/or its webhook."""
    queue = Queue(WRITEBACK_QUEUE, connection=rt.redis)
    # two jobs, so a failing webhook retried with backoff never repeats the CRM note
    for target in ("crm", "webhook"):
        queue.enqueue(
            "relay.jobs.reply_writeback",
            target,
            payload,
            result_ttl=0,
            failure_ttl=7 * 86400,
            retry=Retry(max=5, interval=[10, 30, 60, 300, 900]),
        )


def reply_context(session: Any, message_id: str | None) -> dict[str, Any]:
    """The stored context of the message a reply answers (platform, order, deal …)."""
    if not message_id:
        return {}
    msg = session.scalar(select(Message).where(Message.id == message_id))
    return dict(msg.context or {}) if msg else {}


def run_reply_writeback(rt: Any, target: str, payload: dict[str, Any]) -> str:
    """Deliver one reply to the CRM (via its connector) or to the tenant's webhook."""
    with rt.session() as s:
        tenant = s.get(Tenant, payload["tenant_id"])
        context = reply_context(s, payload.get("message_id"))
    if tenant is None:
        return "no_tenant"
    if target == "webhook":
        url = (tenant.settings or {}).get("webhook_url")
        if not url:
            return "no_webhook"
        post_webhook(url, (tenant.settings or {}).get("webhook_secret") or "", payload)
        return "webhook"
    platform = (context.get("source") or {}).get("platform")
    handler = rt.writebacks.get(platform)
    if handler is None or not isinstance(platform, str):  # the registry is keyed by name
        return "no_connector"
    scored = payload.get("score") is not None
    handler.handle(
        WritebackEvent(
            kind="survey_answered" if scored else "reply_received",
            tenant_id=tenant.id,
            message_id=payload.get("message_id"),
            phone=payload["phone"],
            text=payload["text"],
            score=payload.get("score"),
            context=context,
        )
    )
    return platform
