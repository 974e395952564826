"""Loading the facts the policy needs, for many recipients at once.

Every loader takes a set of phones and answers with one query per kind of fact, so a delivery
batch of hundreds of messages costs a handful of round trips, not hundreds.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from relay.compliance.erasure import add_erased_stops
from relay.messages.lifecycle import MessageStatus
from relay.policy import ConsentRecord as PolicyConsent
from relay.policy import RecipientFacts
from relay.policy import StopEntry as PolicyStop
from relay.storage.models import (
    ALL_CHANNELS,
    ConsentRecord,
    Message,
    NumberRange,
    SenderName,
    StopEntry,
)

# Marketing messages that count towards the frequency cap: planned, in flight or sent.
_S = MessageStatus
COUNTED_STATUSES = (
    _S.SCHEDULED,
    _S.QUEUED,
    _S.SENDING,
    _S.SENT,
    _S.DELIVERED,
    _S.READ,
    _S.UNDELIVERED,
    _S.UNKNOWN,
)


@dataclass
class RecipientContext:
    """Per-recipient facts that come from the event rather than the database."""

    explicit_timezone: str | None = None
    region: str | None = None


@dataclass
class FactsBatch:
    """Facts for a set of phones of one tenant, ready to turn into RecipientFacts."""

    stops: dict[str, list[PolicyStop]] = field(default_factory=lambda: defaultdict(list))
    consents: dict[str, list[PolicyConsent]] = field(default_factory=lambda: defaultdict(list))
    marketing: dict[str, list[tuple[str, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    zones: dict[str, str | None] = field(default_factory=dict)
    _bare: dict[tuple[str | None, ...], RecipientFacts] = field(default_factory=dict, repr=False)

    def for_phone(
        self, phone: str, ctx: RecipientContext | None = None, exclude_id: str | None = None
    ) -> RecipientFacts:
        """The facts for one phone; `exclude_id` leaves a message out of its own cap count."""
        ctx = ctx or RecipientContext()
        stops, consents = self.stops.get(phone), self.consents.get(phone)
        sent = self.marketing.get(phone)
        zone = self.zones.get(phone)
        key = (ctx.explicit_timezone, ctx.region, zone)
        if not stops and not consents and not sent and all(_text(v) for v in key):
            # nothing stored about the number (half of a typical campaign's book): the facts
            # are the same for every such recipient in the same zones, and immutable
            facts = self._bare.get(key)
            if facts is None:
                facts = self._bare[key] = RecipientFacts(
                    explicit_timezone=key[0], region=key[1], numbering_timezone=zone
                )
            return facts
        return RecipientFacts(
            stop_entries=tuple(stops or ()),
            consents=tuple(consents or ()),
            recent_marketing=tuple(at for mid, at in sent or () if mid != exclude_id),
            explicit_timezone=ctx.explicit_timezone,
            region=ctx.region,
            numbering_timezone=zone,
        )


def _text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _channel(value: str) -> str | None:
    return None if value == ALL_CHANNELS else value


def load_facts(
    session: Session,
    tenant_id: str,
    phones: Iterable[str],
    now: datetime,
    window_days: int = 7,
    marketing: bool = True,
) -> FactsBatch:
    """Load stop entries, consent ledger, recent marketing and numbering zones for `phones`.

    With `marketing=False` (only transactional messages to decide) the consent ledger and the
    frequency count are skipped: the policy does not look at them for transactional messages.
    """
    phone_list = sorted(set(phones))
    batch = FactsBatch()
    if not phone_list:
        return batch
    # PostgreSQL takes the whole set as one array parameter: one query per table, whose text
    # is the same for every batch; elsewhere `IN (...)` with at most 500 parameters each
    postgres = session.get_bind().dialect.name == "postgresql"
    step = len(phone_list) if postgres else 500
    since = now - timedelta(days=window_days)
    conn = session.connection()
    for chunk_start in range(0, len(phone_list), step):
        chunk = phone_list[chunk_start : chunk_start + step]
        among = _array_literal(chunk) if postgres else chunk
        for row in conn.execute(
            select(
                StopEntry.phone, StopEntry.channel, StopEntry.source, StopEntry.created_at
            ).where(StopEntry.tenant_id == tenant_id, _among(StopEntry.phone, among))
        ):
            batch.stops[row.phone].append(
                PolicyStop(
                    channel=_channel(row.channel), source=row.source, created_at=row.created_at
                )
            )
        add_erased_stops(session, tenant_id, chunk, batch.stops)  # erased numbers stay blocked
        if marketing:
            _load_marketing(conn, batch, tenant_id, among, since)
        for phone in chunk:
            batch.zones[phone] = NUMBERING.timezone(session, phone)
    return batch


def _among(column: Any, values: list[str] | str) -> ColumnElement[bool]:
    """`column IN values`, or with a PostgreSQL array literal (`_array_literal`)
    `column IN (SELECT unnest(CAST(:values AS TEXT[])))`.

    Not `column = ANY(…)`: PostgreSQL cannot fold the cast of a parameter into a constant, so
    a scan that tests its rows against the array (as a plan over a few thousand rows does)
    parses the literal and searches it once per row, a second per chunk; the subquery reads
    it once and joins. TEXT[], not the column's VARCHAR(n), whose cast would cut a longer
    value and let it match."""
    cond: ColumnElement[bool]
    if isinstance(values, str):
        array = cast(bindparam(None, values, type_=NullType()), ARRAY(Text()))
        cond = column.in_(select(func.unnest(array)).scalar_subquery())
    else:
        cond = column.in_(values)
    return cond


def _array_literal(values: list[str]) -> str:
    """`values` as one PostgreSQL array literal, each quoted: one parameter for the batch's
    queries, where a list costs psycopg's dumper a Python call per element."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _load_marketing(
    conn: Connection,
    batch: FactsBatch,
    tenant_id: str,
    among: list[str] | str,
    since: datetime,
) -> None:
    """The consent ledger and the recent marketing messages of the phones `among` (what only
    marketing messages are decided on)."""
    for consent in conn.execute(
        select(
            ConsentRecord.phone,
            ConsentRecord.granted,
            ConsentRecord.channel,
            ConsentRecord.source,
            ConsentRecord.recorded_at,
        ).where(
            ConsentRecord.tenant_id == tenant_id,
            _among(ConsentRecord.phone, among),
            ConsentRecord.purpose == "marketing",
        )
    ):
        batch.consents[consent.phone].append(
            PolicyConsent(
                granted=consent.granted,
                channel=_channel(consent.channel),
                source=consent.source,
                recorded_at=consent.recorded_at,
            )
        )
    for sent in conn.execute(
        select(Message.id, Message.phone, Message.created_at).where(
            Message.tenant_id == tenant_id,
            _among(Message.phone, among),
            Message.category == "marketing",
            Message.created_at >= since,
            Message.status.in_(COUNTED_STATUSES),
            Message.fallback_of.is_(None),  # a fallback SMS is the same message, not a new one
        )
    ):
        batch.marketing[sent.phone].append((sent.id, sent.created_at))


class NumberingCache:
    """The imported numbering registry held in memory as sorted arrays, refreshed now and then.

    The Russian registry is some tens of thousands of ranges: a few MB in memory, and a bisect
    per number instead of a query per recipient. A process sees a new import within
    `max_age` seconds; until then an unknown range falls back to the strict candidate set.
    """

    def __init__(self, max_age: float = 600.0) -> None:
        self.max_age = max_age
        self._loaded_at = -1e18
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._zones: list[str | None] = []

    def invalidate(self) -> None:
        """Force a reload on the next lookup (after an import in this process)."""
        self._loaded_at = -1e18

    def _load(self, session: Session) -> None:
        rows = (
            session.connection()
            .execute(
                select(NumberRange.start, NumberRange.end, NumberRange.timezone)
                .where(NumberRange.country == "RU")
                .order_by(NumberRange.start)
            )
            .all()
        )
        self._starts = [r.start for r in rows]
        self._ends = [r.end for r in rows]
        self._zones = [r.timezone for r in rows]
        self._loaded_at = time.monotonic()

    def timezone(self, session: Session, phone: str) -> str | None:
        """The zone of the registry range holding a +7 number, if any."""
        if not phone.startswith("+7") or len(phone) != 12:
            return None
        if time.monotonic() - self._loaded_at > self.max_age:
            self._load(session)
        national = int(phone[2:])
        i = bisect.bisect_right(self._starts, national) - 1
        if i < 0 or self._ends[i] < national:
            return None
        return self._zones[i]


NUMBERING = NumberingCache()


def active_sender_names(session: Session, tenant_id: str) -> frozenset[tuple[str, str]]:
    """The (channel, name) pairs a tenant may send from."""
    rows = session.connection().execute(
        select(SenderName.channel, SenderName.name).where(
            SenderName.tenant_id == tenant_id, SenderName.state == "active"
        )
    )
    return frozenset((r.channel, r.name) for r in rows)
