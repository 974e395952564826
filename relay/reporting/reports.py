"""Statistics: messages per day / week / month, per status, channel, category and destination
operator, with segments and spend — all counted by the database (GROUP BY), over both the
messages table and the archive.

Days are the tenant's local days. The database has no IANA zones (SQLite) or should not need
them, so the period is cut where the zone's UTC offset changes and each piece is grouped by
`date(created_at + offset)`: exact across summer time. Weeks (ISO, from Monday) and months are
folded from the daily rows in Python — that loop runs over a few hundred aggregate rows, never
over messages. Operators come from the number prefix (phonenumbers' carrier data, as the cost
estimate uses): grouped by the first 8 characters of the E.164 number, and one representative
number per group is looked up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Numeric, case, func, literal_column, select, text
from sqlalchemy.orm import Session

from relay.campaigns.progress import SENT_STATUSES
from relay.errors import RelayError
from relay.messages.cost import destination
from relay.storage.models import Message, messages_archive

PREFIX = 8  # "+7916123": enough digits for the carrier table's ranges
MAX_DAYS = 5 * 366
BILLED = SENT_STATUSES  # what a gateway accepted: what costs money


def offset_pieces(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset in minutes)."""

    def offset(at: datetime) -> int:
        # an aware datetime always has an offset: `or` only satisfies the Optional
        return int((at.astimezone(zone).utcoffset() or timedelta()).total_seconds() // 60)

    pieces: list[tuple[datetime, datetime, int]] = []
    cur, cur_off = start, offset(start)
    probe = start
    while probe < end:
        nxt = min(probe + timedelta(days=1), end)
        if offset(nxt) == cur_off:
            probe = nxt
            continue
        # the offset changes in (probe, nxt]; zones change on whole seconds, so bisect on
        # integer timestamps to the exact second
        lo, hi = math.floor(probe.timestamp()), math.ceil(nxt.timestamp())
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if offset(datetime.fromtimestamp(mid, UTC)) == cur_off else (lo, mid)
        edge = max(datetime.fromtimestamp(hi, UTC), probe)
        pieces.append((cur, edge, cur_off))
        cur, cur_off, probe = edge, offset(edge), edge
    pieces.append((cur, end, cur_off))
    return [p for p in pieces if p[0] < p[1]]


def _local_day(session: Session, column: Any, minutes: int) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d", column, f"{minutes:+d} minutes")
    if dialect == "postgresql":
        shifted = column + literal_column(f"INTERVAL '{int(minutes)} minutes'")
        return func.to_char(shifted, "YYYY-MM-DD")
    raise RelayError(
        "unsupported_database", f"statistics need SQLite or PostgreSQL, not {dialect}", 400
    )


def roomy_aggregates(session: Session) -> None:
    """Let this transaction group in memory on PostgreSQL. A month of one store's messages is
    ~100,000 rows to GROUP BY: with the default 4 MB of work_mem the planner sorts them on disk
    (~3x slower than hashing them in memory, bench/cabinet_pages.py). SET LOCAL ends with the
    transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '32MB'"))


def _bucket(day: date, group: str) -> date:
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def _empty() -> dict[str, Any]:
    return {
        "messages": 0,
        "by_status": defaultdict(int),
        "by_channel": defaultdict(int),
        "by_category": defaultdict(int),
        "by_channel_category": defaultdict(lambda: defaultdict(int)),
        "segments": 0,
        "spend": defaultdict(Decimal),
    }


def _add(
    acc: dict[str, Any],
    status: str,
    channel: str,
    category: str,
    n: int,
    seg: int,
    cost: Any,
    cur: str | None,
) -> None:
    acc["messages"] += n
    acc["by_status"][status] += n
    acc["by_channel"][channel] += n
    acc["by_category"][category] += n
    acc["by_channel_category"][channel][category] += n
    if status in BILLED:
        acc["segments"] += seg
        if cost is not None:
            acc["spend"][cur or "?"] += Decimal(str(cost))


def _plain(acc: dict[str, Any]) -> dict[str, Any]:
    out = dict(acc)
    for key in ("by_status", "by_channel", "by_category"):
        out[key] = dict(acc[key])
    out["by_channel_category"] = {ch: dict(v) for ch, v in acc["by_channel_category"].items()}
    out["spend"] = {cur: str(v.quantize(Decimal("0.0001"))) for cur, v in acc["spend"].items()}
    return out


def stats(
    session: Session,
    tenant_id: str,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    group: str,
    with_operators: bool = True,
) -> dict[str, Any]:
    """The statistics document of GET /v1/reports/stats (`with_operators` False leaves the
    per-operator query out, for callers that show only the totals: `by_operator` is [])."""
    if end <= start:
        raise RelayError("invalid_period", "'to' must be after 'from'", 422, {"to": ["after from"]})
    if end - start > timedelta(days=MAX_DAYS):
        raise RelayError(
            "period_too_long", f"at most {MAX_DAYS} days", 422, {"from": ["too early"]}
        )
    roomy_aggregates(session)
    totals = _empty()
    buckets: defaultdict[date, dict[str, Any]] = defaultdict(_empty)
    for lo, hi, minutes in offset_pieces(zone, start, end):
        for table in (Message.__table__, messages_archive):
            c = table.c
            day = _local_day(session, c.created_at, minutes).label("day")
            rows = session.execute(
                select(
                    day,
                    c.status,
                    c.channel,
                    c.category,
                    c.currency,
                    func.count(),
                    func.sum(c.segments),
                    func.sum(c.cost),
                )
                .where(c.tenant_id == tenant_id, c.created_at >= lo, c.created_at < hi)
                .group_by(day, c.status, c.channel, c.category, c.currency)
            )
            for d, status, channel, category, cur, n, seg, cost in rows:
                key = _bucket(date.fromisoformat(d), group)
                for acc in (totals, buckets[key]):
                    _add(acc, status, channel, category, int(n), int(seg or 0), cost, cur)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "group": group,
        "timezone": zone.key,
        "totals": _plain(totals),
        "by_operator": operators(session, tenant_id, start, end) if with_operators else [],
        "buckets": [{"start": k.isoformat(), **_plain(v)} for k, v in sorted(buckets.items())],
    }


_PREFIX_CACHE: dict[str, tuple[str | None, str | None]] = {}


def destination_by_prefix(prefix: str, sample: str) -> tuple[str | None, str | None]:
    """(country, operator) of the numbers starting with `prefix` (PREFIX characters: the
    grouping already takes one number as the whole group's representative). Kept per process:
    the carrier table does not change while it runs, and a page of statistics asks for
    thousands of prefixes (~0.1 ms each in phonenumbers)."""
    found = _PREFIX_CACHE.get(prefix)
    if found is None:
        found = destination(sample)
        if len(_PREFIX_CACHE) < 200_000:
            _PREFIX_CACHE[prefix] = found
    return found


def operators(
    session: Session, tenant_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Messages, billed messages, segments and spend per destination operator."""
    roomy_aggregates(session)
    merged: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for table in (Message.__table__, messages_archive):
        c = table.c
        billed = c.status.in_(BILLED)
        prefix = func.substr(c.phone, 1, PREFIX).label("prefix")
        rows = session.execute(
            select(
                prefix,
                func.min(c.phone),
                func.max(c.currency),
                func.count(),
                func.sum(case((billed, 1), else_=0)),
                func.sum(case((billed, c.segments), else_=0)),
                func.sum(case((billed, c.cost), else_=0), type_=Numeric(14, 4)),
            )
            .where(c.tenant_id == tenant_id, c.created_at >= start, c.created_at < end)
            .group_by(prefix)
        )
        for prefix_, sample, cur, n, sent, seg, cost in rows:
            country, operator = destination_by_prefix(prefix_, sample)
            acc = merged.setdefault(
                (country, operator),
                {
                    "country": country,
                    "operator": operator,
                    "messages": 0,
                    "sent": 0,
                    "segments": 0,
                    "spend": defaultdict(Decimal),
                },
            )
            acc["messages"] += int(n)
            acc["sent"] += int(sent or 0)
            acc["segments"] += int(seg or 0)
            if cost:
                acc["spend"][cur or "?"] += Decimal(str(cost))
    out = []
    for acc in sorted(merged.values(), key=lambda a: -a["messages"]):
        acc["spend"] = {k: str(v.quantize(Decimal("0.0001"))) for k, v in acc["spend"].items()}
        out.append(acc)
    return out


def default_period(zone: ZoneInfo, now: datetime, days: int = 30) -> tuple[datetime, datetime]:
    """The last `days` whole local days, today included: the end is the coming local
    midnight, so a message made this very instant is counted too (the end is exclusive)."""
    today = now.astimezone(zone).date()

    def midnight(day: Any) -> datetime:
        return datetime.combine(day, datetime.min.time()).replace(tzinfo=zone).astimezone(UTC)

    return midnight(today - timedelta(days=days - 1)), midnight(today + timedelta(days=1))


def stats_for(
    session: Session,
    tenant_id: str,
    zone: ZoneInfo,
    from_: str | None,
    to: str | None,
    group: str,
    now: datetime,
) -> dict[str, Any]:
    """GET /v1/reports/stats from its query values: `from`/`to` as the message log reads them
    (a date is a whole local day), default the last 30 local days up to now."""
    from relay.reporting.message_log import parse_time

    end = parse_time(to, zone, "to", end=True) or default_period(zone, now)[1]
    last_moment = end - timedelta(microseconds=1)  # the end is exclusive
    start = parse_time(from_, zone, "from") or default_period(zone, last_moment)[0]
    return stats(session, tenant_id, zone, start, end, group)
