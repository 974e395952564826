"""The message log: filters, a stable cursor, and the archive for periods past 12 months.

Newest first by (created_at, id): the pair is unique, so a cursor made of the last row's pair
never skips or repeats a row even while new messages arrive. The archive table is queried too
(UNION ALL of the same columns) when the period reaches back past the archive cut-off, or has
no start at all; a row says whether it came from the archive.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from relay.errors import RelayError
from relay.messages.messages import iso, message_detail
from relay.storage.models import MESSAGE_STATUSES, Flow, Message, messages_archive

ARCHIVE_AFTER = timedelta(days=365)
COLUMNS = (
    "id",
    "phone",
    "channel",
    "category",
    "sender",
    "status",
    "reason",
    "reason_detail",
    "text",
    "segments",
    "encoding",
    "cost",
    "currency",
    "provider",
    "campaign_id",
    "flow_id",
    "template_id",
    "not_before",
    "created_at",
    "updated_at",
    "context",
)


@dataclass(frozen=True)
class LogFilter:
    """What to show: always one tenant; every other condition optional."""

    tenant_id: str
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    phone: str | None = None
    statuses: tuple[str, ...] = ()
    sender: str | None = None
    channel: str | None = None
    campaign_id: int | None = None
    flow_id: int | None = None
    category: str | None = None
    include_archive: bool = False


def parse_time(
    value: str | None, zone: ZoneInfo, field: str, *, end: bool = False
) -> datetime | None:
    """ISO 8601 with an offset, a naive local time, or a date (a whole day in `zone`; as the
    end of a period it means up to the end of that day)."""
    if value in (None, ""):
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            local = datetime.combine(day + timedelta(days=1) if end else day, time())
            return local.replace(tzinfo=zone).astimezone(UTC)
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError as exc:
        raise RelayError(
            "invalid_time", f"{field}: not ISO 8601: {value!r}", 422, {field: ["ISO 8601"]}
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _flow_id(session: Session, tenant_id: str, flow: str | None) -> int | None:
    if flow in (None, ""):
        return None
    cond = Flow.id == int(flow) if flow.isdigit() else Flow.name == flow
    found = session.scalar(select(Flow.id).where(Flow.tenant_id == tenant_id, cond))
    if found is None:
        raise RelayError("flow_not_found", f"no flow {flow!r}", 422, {"flow": ["unknown flow"]})
    return found


def build_filter(
    session: Session,
    tenant_id: str,
    zone: ZoneInfo,
    args: dict[str, Any],
    phone: str | None,
    now: datetime,
) -> LogFilter:
    """A LogFilter from validated query arguments (the phone already normalised)."""
    start = parse_time(args.get("from_"), zone, "from")
    end = parse_time(args.get("to"), zone, "to", end=True)
    if start and end and end <= start:
        raise RelayError("invalid_period", "'to' must be after 'from'", 422, {"to": ["after from"]})
    statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
    unknown = [s for s in statuses if s not in MESSAGE_STATUSES]
    if unknown:
        raise RelayError(
            "invalid_status", f"unknown status {unknown}", 422, {"status": [str(unknown)]}
        )
    return LogFilter(
        tenant_id=tenant_id,
        start=start,
        end=end,
        phone=phone,
        statuses=statuses,
        sender=args.get("sender") or None,
        channel=args.get("channel"),
        campaign_id=args.get("campaign_id"),
        flow_id=_flow_id(session, tenant_id, args.get("flow")),
        category=args.get("category"),
        include_archive=start is None or start < now - ARCHIVE_AFTER,
    )


def conditions(table: Any, f: LogFilter) -> list[Any]:
    """The WHERE clause of a filter over the messages table or the archive."""
    c = table.c
    conds: list[Any] = [c.tenant_id == f.tenant_id]
    if f.start is not None:
        conds.append(c.created_at >= f.start)
    if f.end is not None:
        conds.append(c.created_at < f.end)
    for name in ("phone", "sender", "channel", "campaign_id", "flow_id", "category"):
        value = getattr(f, name)
        if value is not None:
            conds.append(c[name] == value)
    if f.statuses:
        conds.append(c.status.in_(f.statuses))
    return conds


def encode_cursor(created_at: datetime, message_id: str) -> str:
    """An opaque cursor for the row after which the next page starts."""
    raw = f"{created_at.astimezone(UTC).isoformat()}|{message_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) pair of a cursor; 422 `invalid_cursor` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, message_id = raw.split("|", 1)
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None or not message_id:
            raise ValueError(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RelayError(
            "invalid_cursor", "the cursor is not valid", 422, {"cursor": ["bad"]}
        ) from exc
    return at, message_id


def _part(
    table: Any, f: LogFilter, archived: bool, after: tuple[datetime, str] | None, asc: bool
) -> Select[*tuple[Any, ...]]:
    conds = conditions(table, f)
    if after is not None:
        at, mid = after
        if asc:
            conds.append(
                or_(table.c.created_at > at, and_(table.c.created_at == at, table.c.id > mid))
            )
        else:
            conds.append(
                or_(table.c.created_at < at, and_(table.c.created_at == at, table.c.id < mid))
            )
    return select(*(table.c[n] for n in COLUMNS), literal(archived).label("archived")).where(*conds)


def page_query(
    f: LogFilter, limit: int, after: tuple[datetime, str] | None = None, oldest_first: bool = False
) -> Select[*tuple[Any, ...]]:
    """One page of the log (both tables when the filter asks for the archive)."""
    parts = [_part(Message.__table__, f, False, after, oldest_first)]
    if f.include_archive:
        parts.append(_part(messages_archive, f, True, after, oldest_first))
    if len(parts) == 1:
        sub = parts[0].subquery()
    else:
        sub = union_all(*parts).subquery()
    order = (
        (sub.c.created_at, sub.c.id) if oldest_first else (sub.c.created_at.desc(), sub.c.id.desc())
    )
    return select(sub).order_by(*order).limit(limit)


def fetch_page(
    session: Session, f: LogFilter, limit: int, cursor: str | None
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    """Rows of one page, newest first, and the cursor of the next page (None at the end)."""
    after = decode_cursor(cursor) if cursor else None
    rows = session.execute(page_query(f, limit + 1, after)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1].created_at, rows[-1].id) if (more and rows) else None
    return rows, nxt


def iter_rows(
    session: Session, f: LogFilter, page: int = 2000, oldest_first: bool = False
) -> Iterator[Sequence[Row[*tuple[Any, ...]]]]:
    """Every matching row, page by page (keyset pagination: bounded memory, short queries)."""
    after: tuple[datetime, str] | None = None
    while True:
        rows = session.execute(page_query(f, page, after, oldest_first)).all()
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        after = (rows[-1].created_at, rows[-1].id)


def row_dict(row: Any) -> dict[str, Any]:
    """One log row in the API's shape."""
    out = {n: getattr(row, n) for n in COLUMNS if n != "context"}
    for key in ("not_before", "created_at", "updated_at"):
        out[key] = iso(out[key])
    out["cost"] = str(out["cost"]) if out["cost"] is not None else None
    out["archived"] = bool(row.archived)
    return out


def tenant_message(session: Session, tenant_id: str, message_id: str) -> dict[str, Any]:
    """One message of this tenant with its decision reasons and every status change (the
    archive too, where only the final row is kept); another tenant's id is 404."""
    msg = session.get(Message, message_id)
    if msg is not None and msg.tenant_id == tenant_id:
        return {**message_detail(session, msg), "archived": False}
    t = messages_archive
    row = session.execute(
        select(*(t.c[n] for n in COLUMNS), literal(True).label("archived")).where(
            t.c.id == message_id, t.c.tenant_id == tenant_id
        )
    ).first()
    if row is None:
        raise RelayError("message_not_found", f"no message {message_id!r}", 404)
    return {**row_dict(row), "history": []}


def _summary_parts(session: Session, f: LogFilter) -> list[Any]:
    from relay.reporting.reports import roomy_aggregates  # here: reports.stats_for imports us

    roomy_aggregates(session)
    return [Message.__table__] + ([messages_archive] if f.include_archive else [])


def operator_summary(session: Session, f: LogFilter) -> list[dict[str, Any]]:
    """SMS of the filter sent, delivered and blocked per destination operator (the number's
    prefix, as the statistics count it), most messages first."""
    from relay.reporting.reports import PREFIX, destination_by_prefix

    merged: dict[tuple[str | None, str | None], dict[str, int]] = {}
    for table in _summary_parts(session, f):
        c = table.c
        if f.channel not in (None, "sms"):
            continue
        prefix = func.substr(c.phone, 1, PREFIX)
        rows = session.execute(
            select(
                prefix,
                func.min(c.phone),
                func.count(),
                func.sum(case((c.status.in_(("sent", "delivered", "read")), 1), else_=0)),
                func.sum(case((c.status.in_(("delivered", "read")), 1), else_=0)),
                func.sum(case((c.status == "blocked", 1), else_=0)),
            )
            .where(*conditions(table, f), c.channel == "sms")
            .group_by(prefix)
        )
        for prefix_, sample, n, sent, delivered, blocked in rows:
            country, operator = destination_by_prefix(prefix_, sample)
            acc = merged.setdefault(
                (country, operator),
                {"messages": 0, "sent": 0, "delivered": 0, "blocked": 0},
            )
            acc["messages"] += int(n)
            acc["sent"] += int(sent or 0)
            acc["delivered"] += int(delivered or 0)
            acc["blocked"] += int(blocked or 0)
    out = [{"country": k[0], "operator": k[1], **v} for k, v in merged.items()]
    return sorted(out, key=lambda a: -a["messages"])


def traffic_summary(session: Session, f: LogFilter) -> list[dict[str, Any]]:
    """Viber messages of the filter per traffic type (category: marketing is advertising,
    transactional is service) and status."""
    merged: dict[str, dict[str, int]] = {}
    for table in _summary_parts(session, f):
        c = table.c
        if f.channel not in (None, "viber"):
            continue
        rows = session.execute(
            select(c.category, c.status, func.count())
            .where(*conditions(table, f), c.channel == "viber")
            .group_by(c.category, c.status)
        )
        for category, status, n in rows:
            acc = merged.setdefault(
                category, {"messages": 0, "delivered": 0, "read": 0, "blocked": 0}
            )
            acc["messages"] += int(n)
            if status in ("delivered", "read"):
                acc["delivered"] += int(n)
            if status == "read":
                acc["read"] += int(n)
            if status == "blocked":
                acc["blocked"] += int(n)
    return [{"category": k, **v} for k, v in sorted(merged.items())]
