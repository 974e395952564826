"""The stop-list as an admin manages it: search, add, delete selected, delete all, export, import.

The policy's rule (docs/architecture.md, 'Policy'), START lifts only what a keyword put
there, lives in relay.compliance.stoplist; everything here is the admin's own hand, audited.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from relay.adapters.tabular import cell_text
from relay.compliance.audit import audit
from relay.compliance.stoplist import add_stop, record_stop_removal, stop_change_rows
from relay.contacts.import_rows import PHONE_HEADERS, Importer, RowReport
from relay.errors import RelayError
from relay.runtime import Runtime
from relay.storage.dml import affected_rows
from relay.storage.models import ALL_CHANNELS, StopEntry, Tenant

STOP_CHANNELS = ("sms", "viber", ALL_CHANNELS)
CLEAR_TOKEN_SECONDS = 300
EXPORT_HEADER = ("phone", "channel", "source", "note", "created_at")
PAGE = 1_000


def entry_dict(entry: StopEntry) -> dict[str, Any]:
    """An entry as the API shows it."""
    return {
        "id": entry.id,
        "phone": entry.phone,
        "channel": entry.channel,
        "source": entry.source,
        "note": entry.note,
        "created_at": entry.created_at.isoformat() if entry.created_at else None,
    }


def search_entries(
    session: Session,
    tenant_id: str,
    *,
    phone: str | None = None,
    channel: str | None = None,
    source: str | None = None,
    q: str | None = None,
    cursor: int | None = None,
    limit: int = 100,
) -> tuple[list[StopEntry], int | None]:
    """Newest first, keyset-paginated by id; `q` matches part of the number or the note."""
    stmt = select(StopEntry).where(StopEntry.tenant_id == tenant_id)
    if phone:
        stmt = stmt.where(StopEntry.phone == phone)
    if channel:
        stmt = stmt.where(StopEntry.channel == channel)
    if source:
        stmt = stmt.where(StopEntry.source == source)
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        terms = [StopEntry.note.contains(q, autoescape=True)]
        if digits:
            terms.append(StopEntry.phone.contains(digits, autoescape=True))
        stmt = stmt.where(or_(*terms))
    if cursor is not None:
        stmt = stmt.where(StopEntry.id < cursor)
    rows = list(session.scalars(stmt.order_by(StopEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def add_entry(
    session: Session,
    tenant: Tenant,
    phone: str,
    channel: str,
    note: str | None,
    actor: str,
    now: datetime,
) -> tuple[StopEntry, bool]:
    """Put a number on the stop-list by hand; (entry, created). Adding it twice is a no-op."""
    before = session.scalar(
        select(func.count()).where(
            StopEntry.tenant_id == tenant.id,
            StopEntry.phone == phone,
            StopEntry.channel == channel,
            StopEntry.source == "admin",
        )
    )
    entry = add_stop(session, tenant.id, phone, "admin", now, channel=channel, note=note)
    created = not before
    if created:
        audit(
            session,
            tenant_id=tenant.id,
            actor=actor,
            action="stoplist.add",
            target_type="stoplist_entry",
            target_id=entry.id,
            after=entry_dict(entry),
            at=now,
        )
    return entry, created


def delete_entries(
    session: Session, tenant: Tenant, ids: list[int], actor: str, now: datetime
) -> tuple[list[int], list[int]]:
    """Delete the tenant's entries among `ids`; (deleted, not found). Foreign ids are not found."""
    found = list(
        session.scalars(
            select(StopEntry).where(StopEntry.tenant_id == tenant.id, StopEntry.id.in_(ids))
        )
    )
    deleted = [e.id for e in found]
    if found:
        session.execute(
            delete(StopEntry).where(StopEntry.tenant_id == tenant.id, StopEntry.id.in_(deleted))
        )
        record_stop_removal(session, found, actor, now, "deleted by hand")
        audit(
            session,
            tenant_id=tenant.id,
            actor=actor,
            action="stoplist.delete",
            target_type="stoplist_entry",
            target_id=deleted[0] if len(deleted) == 1 else None,
            before={"entries": [entry_dict(e) for e in found]},
            at=now,
        )
    return deleted, [i for i in ids if i not in set(deleted)]


def _count(session: Session, tenant_id: str, channel: str | None) -> int:
    stmt = select(func.count()).where(StopEntry.tenant_id == tenant_id)
    if channel:
        stmt = stmt.where(StopEntry.channel == channel)
    return int(session.scalar(stmt) or 0)


def _digest(secret: str, tenant_id: str, channel: str | None, count: int, expires: int) -> str:
    message = f"stoplist-clear|{tenant_id}|{channel or '*'}|{count}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def request_clear(
    session: Session, tenant: Tenant, channel: str | None, secret: str, now: datetime
) -> dict[str, Any]:
    """Step one of "delete all": how many entries would go, and a token confirming exactly that."""
    count = _count(session, tenant.id, channel)
    expires = int((now + timedelta(seconds=CLEAR_TOKEN_SECONDS)).timestamp())
    token = f"{expires}.{count}.{_digest(secret, tenant.id, channel, count, expires)}"
    return {
        "count": count,
        "channel": channel,
        "confirm_token": token,
        "expires_at": datetime.fromtimestamp(expires, now.tzinfo).isoformat(),
    }


def confirm_clear(
    session: Session,
    tenant: Tenant,
    channel: str | None,
    token: str,
    secret: str,
    actor: str,
    now: datetime,
) -> int:
    """Step two: delete every entry (of `channel`) if the token is genuine, fresh and current."""
    try:
        expires_text, count_text, digest = token.split(".")
        expires, count = int(expires_text), int(count_text)
    except (ValueError, AttributeError) as exc:
        raise RelayError(
            "invalid_confirmation", "the confirmation token is malformed", 422
        ) from exc
    expected = _digest(secret, tenant.id, channel, count, expires)
    if not hmac.compare_digest(expected.encode(), digest.encode()):
        raise RelayError(
            "invalid_confirmation", "the confirmation token does not match this request", 422
        )
    if now.timestamp() > expires:
        raise RelayError("confirmation_expired", "the confirmation token expired; ask again", 409)
    if _count(session, tenant.id, channel) != count:
        raise RelayError(
            "confirmation_stale",
            f"the stop-list changed since the token was issued for {count} entries; ask again",
            409,
        )
    gone = select(StopEntry).where(StopEntry.tenant_id == tenant.id)
    if channel:
        gone = gone.where(StopEntry.channel == channel)
    entries = list(session.scalars(gone))
    stmt = delete(StopEntry).where(StopEntry.tenant_id == tenant.id)
    if channel:
        stmt = stmt.where(StopEntry.channel == channel)
    deleted = affected_rows(session, stmt) or 0
    record_stop_removal(session, entries, actor, now, "stop-list cleared")
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="stoplist.clear",
        target_type="stoplist",
        before={"count": deleted, "channel": channel},
        after={"count": 0, "channel": channel},
        at=now,
    )
    return deleted


def export_rows(rt: Runtime, tenant_id: str, channel: str | None) -> Iterator[tuple[Any, ...]]:
    """Every entry, a page at a time, each page read in its own short session."""
    last = 0
    while True:
        with rt.session() as session:
            stmt = select(StopEntry).where(StopEntry.tenant_id == tenant_id, StopEntry.id > last)
            if channel:
                stmt = stmt.where(StopEntry.channel == channel)
            page = list(session.scalars(stmt.order_by(StopEntry.id).limit(PAGE)))
        if not page:
            return
        for e in page:
            yield (e.phone, e.channel, e.source, e.note, e.created_at)
        last = page[-1].id


class StopImporter(Importer):
    """Numbers from a file onto the stop-list with source `import` (channel per row or given)."""

    kind = "stoplist"
    roles = {
        "phone": PHONE_HEADERS,
        "channel": ("channel", "канал"),
        "note": ("note", "comment", "комментарий", "примечание", "причина", "reason"),
    }

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.default_channel = self.options.get("channel") or ALL_CHANNELS
        self.already = 0

    def take(self, row: int, cells: list[Any], report: RowReport) -> dict[str, Any] | None:
        phone = self.phone(row, self.layout.get(cells, "phone"), report)
        if phone is None:
            return None
        channel = cell_text(self.layout.get(cells, "channel")).lower() or self.default_channel
        if channel not in STOP_CHANNELS:
            report.reject(row, channel, "invalid_channel", f"one of {list(STOP_CHANNELS)}")
            return None
        if not self.first_time(row, (phone, channel), self.layout.get(cells, "phone"), report):
            return None
        note = cell_text(self.layout.get(cells, "note"))[:1000] or None
        return {"phone": phone, "channel": channel, "note": note}

    def write(self, rows: list[dict[str, Any]]) -> None:
        # numbers an earlier import already listed stay as they are (one entry per source)
        existing = set(
            self.session.execute(
                select(StopEntry.phone, StopEntry.channel).where(
                    StopEntry.tenant_id == self.tenant.id,
                    StopEntry.source == "import",
                    StopEntry.phone.in_({r["phone"] for r in rows}),
                )
            ).all()
        )
        fresh = [
            {**r, "tenant_id": self.tenant.id, "source": "import", "created_at": self.now}
            for r in rows
            if (r["phone"], r["channel"]) not in existing
        ]
        self.already += len(rows) - len(fresh)
        if fresh:
            self.insert_rows(StopEntry, fresh)
            keys = {(r["phone"], r["channel"]) for r in fresh}
            added = [
                e
                for e in self.session.scalars(
                    select(StopEntry).where(
                        StopEntry.tenant_id == self.tenant.id,
                        StopEntry.source == "import",
                        StopEntry.phone.in_({r["phone"] for r in fresh}),
                    )
                )
                if (e.phone, e.channel) in keys
            ]
            actor = self.options.get("actor") or "import"
            self.session.add_all(stop_change_rows(added, "add", actor, self.now))
            self.session.flush()

    def summary(self) -> dict[str, Any]:
        return {"already_listed": self.already}

    def finish(self, report: RowReport) -> None:
        audit(
            self.session,
            tenant_id=self.tenant.id,
            actor=self.options.get("actor") or "unknown",
            action="stoplist.import",
            target_type="import_job",
            target_id=self.job.id,
            after={
                "file": self.options.get("filename"),
                "channel": self.default_channel,
                "accepted": self.job.accepted,
                "rejected": self.job.rejected,
                "already_listed": self.already,
            },
            at=self.now,
        )
