"""NPS surveys: a 0–10 reply within the window records a score (and a comment); the report
gives promoters (9–10), passives (7–8), detractors (0–6), NPS and the response rate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus
from relay.storage.models import Flow, Message, Survey, SurveyResponse

# a survey message the recipient may be answering: it reached the gateway and was not lost
ANSWERABLE = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)

_SCORE = re.compile(r"^\s*(10|[0-9])(?![0-9])\s*(?:[,.;:!)\-–—/]+\s*|\s+|$)(.*)$", re.S)


@dataclass(frozen=True)
class Score:
    """A parsed survey answer."""

    score: int
    comment: str | None


def parse_score(text: str) -> Score | None:
    """'9, all good' → Score(9, 'all good'); '10' → Score(10, None); '11' or 'ok' → None."""
    match = _SCORE.match(text or "")
    if not match:
        return None
    comment = match.group(2).strip() or None
    return Score(int(match.group(1)), comment)


def open_survey_message(
    session: Session, tenant_id: str, phone: str, now: datetime
) -> tuple[Message, Survey] | None:
    """The latest survey message to this number still inside its survey's window."""
    # survey messages carry their survey id in the context (JSON text, portable across DBs)
    rows = session.scalars(
        select(Message)
        .where(
            Message.tenant_id == tenant_id,
            Message.phone == phone,
            Message.status.in_(ANSWERABLE),
            Message.created_at >= now - timedelta(days=31),
        )
        .order_by(Message.created_at.desc())
        .limit(20)
    ).all()
    for msg in rows:
        survey_id = (msg.context or {}).get("survey_id")
        if not survey_id:
            continue
        survey = session.get(Survey, int(survey_id))
        if survey is None:
            return None
        sent_at = max(msg.created_at, msg.not_before or msg.created_at)
        if now - sent_at <= timedelta(hours=survey.window_hours):
            return msg, survey
        return None  # the newest survey message is past its window: do not fall back to older
    return None


def record_answer(
    session: Session, msg: Message, survey: Survey, score: Score, inbound_id: int, now: datetime
) -> SurveyResponse | None:
    """Record a score once per survey message; a later text answer becomes the comment."""
    existing = session.scalar(select(SurveyResponse).where(SurveyResponse.message_id == msg.id))
    if existing is not None:
        return None
    row = SurveyResponse(
        survey_id=survey.id,
        tenant_id=msg.tenant_id,
        message_id=msg.id,
        phone=msg.phone,
        score=score.score,
        comment=score.comment,
        inbound_id=inbound_id,
        answered_at=now,
    )
    session.add(row)
    session.flush()
    return row


def add_comment(session: Session, tenant_id: str, phone: str, text: str, now: datetime) -> bool:
    """A detractor's answer to the follow-up question becomes the comment of their score."""
    row = session.scalar(
        select(SurveyResponse)
        .where(
            SurveyResponse.tenant_id == tenant_id,
            SurveyResponse.phone == phone,
            SurveyResponse.comment.is_(None),
            SurveyResponse.score <= 6,
            SurveyResponse.answered_at >= now - timedelta(hours=24),
        )
        .order_by(SurveyResponse.answered_at.desc())
        .limit(1)
    )
    if row is None:
        return False
    session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.id == row.id)
        .values(comment=text.strip()[:2000])
    )
    return True


def survey_report(session: Session, survey: Survey) -> dict[str, Any]:
    """Counts, NPS (−100..100, % promoters − % detractors) and response rate."""
    responses = session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyResponse.answered_at)
    ).all()
    sent = (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.tenant_id == survey.tenant_id,
                Message.status.in_(ANSWERABLE),
                Message.context.is_not(None),
                Message.flow_id.in_(_flows_of(session, survey)),
            )
        )
        or 0
    )
    promoters = sum(1 for r in responses if r.score >= 9)
    detractors = sum(1 for r in responses if r.score <= 6)
    total = len(responses)
    nps = round(100 * (promoters - detractors) / total) if total else None
    return {
        "survey_id": survey.id,
        "name": survey.name,
        "responses": total,
        "sent": sent,
        "promoters": promoters,
        "passives": total - promoters - detractors,
        "detractors": detractors,
        "nps": nps,
        "response_rate": round(total / sent, 4) if sent else None,
        "answers": [
            {
                "phone": r.phone,
                "score": r.score,
                "comment": r.comment,
                "answered_at": r.answered_at.isoformat(),
                "message_id": r.message_id,
            }
            for r in responses
        ],
    }


def _flows_of(session: Session, survey: Survey) -> list[int]:
    return list(session.scalars(select(Flow.id).where(Flow.survey_id == survey.id)))


def tenant_survey_reports(session: Session, tenant_id: str) -> list[dict[str, Any]]:
    """The report of each of the tenant's surveys (without the answers), newest first."""
    surveys = session.scalars(
        select(Survey).where(Survey.tenant_id == tenant_id).order_by(Survey.id.desc())
    )
    out = []
    for survey in surveys:
        report = survey_report(session, survey)
        report.pop("answers")
        out.append(report)
    return out


def nps_trend(
    session: Session, tenant_id: str, zone: Any, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """NPS per local month of the answers in [start, end), every survey together:
    [{"month": "2026-01", "responses", "promoters", "detractors", "nps"}]."""
    rows = session.execute(
        select(SurveyResponse.answered_at, SurveyResponse.score).where(
            SurveyResponse.tenant_id == tenant_id,
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < end,
        )
    )
    months: dict[str, list[int]] = {}
    for at, score in rows:
        key = at.astimezone(zone).strftime("%Y-%m")
        acc = months.setdefault(key, [0, 0, 0])
        acc[0] += 1
        acc[1] += score >= 9
        acc[2] += score <= 6
    return [
        {
            "month": key,
            "responses": n,
            "promoters": p,
            "detractors": d,
            "nps": round(100 * (p - d) / n),
        }
        for key, (n, p, d) in sorted(months.items())
    ]
