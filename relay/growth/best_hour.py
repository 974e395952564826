"""Each recipient's best hour: the hour of the day they most often click or read.

Read from the recipient's own history with this store (counted clicks on short links and
`read` receipts of the last `HISTORY_DAYS`), one query per table for a whole chunk of numbers.
A number needs `MIN_EVENTS` such moments before its hour is trusted; the others keep the
mailing's own time (docs/architecture.md, 'Growth'). The hour is one of the UTC clock, which
`relay.policy.local_hour` turns into a release inside the mailing's window.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.messages.lifecycle import MessageStatus
from relay.storage.models import Click, Message, MessageHistory

HISTORY_DAYS = 180
MIN_EVENTS = 3

__all__ = ["HISTORY_DAYS", "MIN_EVENTS", "best_hours", "modal_hour"]


def modal_hour(moments: Iterable[datetime]) -> int | None:
    """The UTC hour with the most moments (a tie goes to the hour of the latest moment among
    the tied), or None with fewer than `MIN_EVENTS` moments."""
    ordered = sorted(moments)
    if len(ordered) < MIN_EVENTS:
        return None
    counts = Counter(m.hour for m in ordered)
    top = max(counts.values())
    return next(m.hour for m in reversed(ordered) if counts[m.hour] == top)


def best_hours(
    session: Session, tenant_id: str, phones: Iterable[str], now: datetime
) -> dict[str, int]:
    """{phone: best UTC hour} for the numbers of `phones` with enough history."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    since = now - timedelta(days=HISTORY_DAYS)
    moments: defaultdict[str, list[datetime]] = defaultdict(list)
    mine = (Message.tenant_id == tenant_id, Message.phone.in_(wanted))
    clicks = (
        select(Message.phone, Click.at)
        .join(Message, Message.id == Click.message_id)
        .where(*mine, Click.tenant_id == tenant_id, Click.at >= since)
    )
    reads = (
        select(Message.phone, MessageHistory.at)
        .join(Message, Message.id == MessageHistory.message_id)
        .where(*mine, MessageHistory.status == MessageStatus.READ, MessageHistory.at >= since)
    )
    for query in (clicks, reads):
        for phone, at in session.execute(query):
            moments[phone].append(at)
    found = {phone: modal_hour(ats) for phone, ats in moments.items()}
    return {phone: hour for phone, hour in found.items() if hour is not None}
