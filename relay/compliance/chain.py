"""The tamper-evident ledger: consent records, stop-list changes and the audit log, hash-chained
per tenant.

Every such record carries `chain_seq` (1, 2, 3 … per tenant, across the three tables),
`chain_prev` (the hash of the record before it; 64 zeros for the first) and `chain_hash` =
SHA-256 of `chain_prev`, the sequence number, the table and the record's own content in
canonical JSON. The tenant's head (`ledger_heads`: last seq and hash) is the lock: a writer
takes it before linking (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the insert-if-missing
that precedes the read takes the database's write lock, and SQLite serialises writers), so two
writers for one tenant never fork the chain. Operator-level audit entries (no tenant) form the
chain `-`.

Linking happens in the session's `before_flush` for records added through the ORM (wherever
they are written: intake, replies, the admin API), and through `link_rows()` for bulk Core
inserts (imports). `verify()` recomputes a chain and names the first record that was edited,
inserted or deleted; `relay.compliance.digests` signs the heads daily, which also catches a
chain rewritten from the start by someone who could recompute every hash.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relay.storage.models import AuditEntry, ConsentRecord, LedgerHead, StopChange

GENESIS = "0" * 64
OPERATOR = "-"  # the chain of audit entries that belong to no tenant
# table → the columns whose content is chained (never the id or the chain columns)
CHAINED: dict[str, tuple[type, tuple[str, ...]]] = {
    "consent_records": (
        ConsentRecord,
        (
            "tenant_id",
            "phone",
            "purpose",
            "channel",
            "granted",
            "source",
            "wording",
            "ip",
            "user_agent",
            "captured_at",
            "recorded_at",
            "event_pk",
        ),
    ),
    "stoplist_changes": (
        StopChange,
        ("tenant_id", "action", "entry_id", "phone", "channel", "source", "note", "actor", "at"),
    ),
    "audit_log": (
        AuditEntry,
        ("tenant_id", "actor", "action", "target_type", "target_id", "before", "after", "at"),
    ),
}
TABLE_OF = {model: table for table, (model, _cols) in CHAINED.items()}
# defaults the columns would get at INSERT, applied before hashing
_DEFAULTS: dict[str, dict[str, Any]] = {
    "consent_records": {"purpose": "marketing", "channel": "all"},
    "stoplist_changes": {},
    "audit_log": {},
}
_NOW_COLUMNS = {"consent_records": "recorded_at", "stoplist_changes": "at", "audit_log": "at"}


def _plain(value: Any) -> Any:
    """A value as it reads back from either database, so the hash survives the round trip."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")  # PostgreSQL keeps no NUL (relay.storage.db)
    if isinstance(value, dict | list):
        # JSON columns store with default=str; read back, that is what we hash
        return _plain_json(json.loads(json.dumps(value, ensure_ascii=False, default=str)))
    return value


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    return value


def content_of(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """The chained content of a record (a dict of its columns)."""
    return {col: _plain(values.get(col)) for col in CHAINED[table][1]}


def record_hash(prev: str, seq: int, table: str, values: dict[str, Any]) -> str:
    """The hash a record carries."""
    body = json.dumps(
        [prev, seq, table, content_of(table, values)],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def chain_key(tenant_id: str | None) -> str:
    """The chain a record belongs to."""
    return tenant_id or OPERATOR


# ---- the head: the lock and the last link ---------------------------------------------------


def lock_head(session: Session, key: str, now: datetime) -> tuple[int, str]:
    """Take the tenant's chain head for this transaction; its (seq, hash)."""
    conn = session.connection()
    dialect = conn.dialect.name
    values = {"tenant_key": key, "seq": 0, "hash": GENESIS, "updated_at": now}
    created = False
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(LedgerHead).values(**values).on_conflict_do_nothing()
        created = conn.execute(stmt.returning(LedgerHead.tenant_key)).first() is not None
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        # a write statement first: it takes SQLite's write lock, so the read below is current
        lite = sqlite_insert(LedgerHead).values(**values).on_conflict_do_nothing()
        created = conn.execute(lite.returning(LedgerHead.tenant_key)).first() is not None
    else:  # pragma: no cover - the relay runs on PostgreSQL and SQLite
        try:
            with session.begin_nested():
                conn.execute(insert(LedgerHead).values(**values))
            created = True
        except IntegrityError:
            pass
    if created:
        return _adopt(session, key, now)
    row = conn.execute(
        select(LedgerHead.seq, LedgerHead.hash)
        .where(LedgerHead.tenant_key == key)
        .with_for_update()
    ).one()
    return int(row.seq), str(row.hash)


def _adopt(session: Session, key: str, now: datetime) -> tuple[int, str]:
    """A new chain starts with the records written before chains existed (oldest first), so an
    upgraded relay's ledger is sealed from the first write on; the head row is already locked."""
    legacy = [(t, i, v) for t, i, v in _rows(session, key) if v["chain_seq"] is None]
    when = _NOW_COLUMNS
    legacy.sort(key=lambda r: (_plain(r[2][when[r[0]]]) or "", r[0], r[1]))
    seq, prev = 0, GENESIS
    conn = session.connection()
    for table, record_id, values in legacy:
        seq += 1
        hash_ = record_hash(prev, seq, table, values)
        model = CHAINED[table][0]
        conn.execute(
            update(model)
            .where(model.id == record_id)  # type: ignore[attr-defined]
            .values(chain_seq=seq, chain_prev=prev, chain_hash=hash_)
        )
        prev = hash_
    if seq:
        _save_head(session, key, seq, prev, now)
    return seq, prev


def _save_head(session: Session, key: str, seq: int, hash_: str, now: datetime) -> None:
    session.connection().execute(
        update(LedgerHead)
        .where(LedgerHead.tenant_key == key)
        .values(seq=seq, hash=hash_, updated_at=now)
    )


# ---- linking ---------------------------------------------------------------------------------


def _fill_defaults(table: str, obj: Any, now: datetime) -> None:
    for col, value in _DEFAULTS[table].items():
        if getattr(obj, col) is None:
            setattr(obj, col, value)
    if getattr(obj, _NOW_COLUMNS[table]) is None:
        setattr(obj, _NOW_COLUMNS[table], now)


def _link_new(session: Session, _context: Any, _instances: Any) -> None:
    """before_flush: give every new chained record its place in its tenant's chain."""
    pending: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for obj in list(session.new):
        table = TABLE_OF.get(type(obj))
        if table is None or getattr(obj, "chain_seq", None) is not None:
            continue
        pending[chain_key(obj.tenant_id)].append((table, obj))
    if not pending:
        return
    now = datetime.now(UTC)
    for key in sorted(pending):  # always the same order: no deadlock between two tenants
        seq, prev = lock_head(session, key, now)
        for table, obj in pending[key]:
            _fill_defaults(table, obj, now)
            seq += 1
            values = {col: getattr(obj, col) for col in CHAINED[table][1]}
            obj.chain_seq, obj.chain_prev = seq, prev
            obj.chain_hash = prev = record_hash(prev, seq, table, values)
        _save_head(session, key, seq, prev, now)


def link_rows(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    """Chain rows about to be bulk-inserted with Core (imports): fills their chain columns."""
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_key[chain_key(row.get("tenant_id"))].append(row)
    now = datetime.now(UTC)
    for key in sorted(by_key):
        seq, prev = lock_head(session, key, now)
        for row in by_key[key]:
            for col, value in _DEFAULTS[table].items():
                row.setdefault(col, value)
            row.setdefault(_NOW_COLUMNS[table], now)
            seq += 1
            row["chain_seq"], row["chain_prev"] = seq, prev
            row["chain_hash"] = prev = record_hash(prev, seq, table, row)
        _save_head(session, key, seq, prev, now)


_INSTALLED = False


def install() -> None:
    """Link chained records in every session's flush (idempotent; wiring calls it)."""
    global _INSTALLED
    if not _INSTALLED:
        event.listen(Session, "before_flush", _link_new)
        _INSTALLED = True


# ---- verifying ---------------------------------------------------------------------------------


@dataclass
class Problem:
    """The first thing wrong with a chain."""

    kind: str  # edited | inserted | deleted
    table: str | None
    record_id: Any
    seq: int | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "id": self.record_id,
            "seq": self.seq,
            "detail": self.detail,
        }


@dataclass
class Report:
    """What verifying one chain found."""

    tenant: str
    records: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problem: Problem | None = None
    digests_checked: int = 0
    links: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "ok": self.ok,
            "records": self.records,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "digests_checked": self.digests_checked,
            "problem": self.problem.to_dict() if self.problem else None,
        }


def _rows(session: Session, key: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """(table, id, columns) of every record of a chain, chained or not."""
    out = []
    for table, (model, cols) in CHAINED.items():
        tenant_col = model.tenant_id  # type: ignore[attr-defined]
        where = tenant_col.is_(None) if key == OPERATOR else tenant_col == key
        columns = [model.id, model.chain_seq, model.chain_prev, model.chain_hash]  # type: ignore[attr-defined]
        columns += [getattr(model, c) for c in cols]
        for row in session.execute(select(*columns).where(where)):
            values = dict(
                zip(("id", "chain_seq", "chain_prev", "chain_hash", *cols), row, strict=True)
            )
            out.append((table, values["id"], values))
    return out


def verify(session: Session, key: str) -> Report:
    """Recompute one chain; the report names the first record edited, inserted or deleted."""
    report = Report(tenant=key)
    head = session.execute(
        select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.tenant_key == key)
    ).one_or_none()
    rows = _rows(session, key)
    report.records = len(rows)
    if head is not None:
        report.head_seq, report.head_hash = int(head.seq), str(head.hash)
    unchained = sorted(
        ((t, i) for t, i, v in rows if v["chain_seq"] is None), key=lambda x: str(x[1])
    )
    chained = sorted(
        ((t, i, v) for t, i, v in rows if v["chain_seq"] is not None),
        key=lambda x: (x[2]["chain_seq"], x[0], str(x[1])),
    )
    expected, prev = 1, GENESIS
    for table, record_id, values in chained:
        seq = int(values["chain_seq"])
        if seq < expected:
            report.problem = Problem(
                "inserted",
                table,
                record_id,
                seq,
                f"a second record claims place {seq} in the chain",
            )
            return report
        if seq > expected:
            report.problem = Problem(
                "deleted",
                table,
                record_id,
                expected,
                f"the record at place {expected} is missing (found {seq} next)",
            )
            return report
        if values["chain_prev"] != prev:
            report.problem = Problem(
                "edited",
                table,
                record_id,
                seq,
                "its link to the record before does not match that record's hash",
            )
            return report
        computed = record_hash(prev, seq, table, values)
        if computed != values["chain_hash"]:
            report.problem = Problem(
                "edited", table, record_id, seq, "its content does not match its hash"
            )
            return report
        report.links[seq] = computed
        prev = computed
        expected += 1
    last = expected - 1
    if unchained:
        table, record_id = unchained[0]
        if head is None and not chained:
            report.problem = Problem(
                "inserted",
                table,
                record_id,
                None,
                "records without a chain and no chain head: written before the chain existed "
                "or outside the relay",
            )
        else:
            report.problem = Problem(
                "inserted", table, record_id, None, "a record outside the chain"
            )
        return report
    if head is not None and (report.head_seq != last or report.head_hash != prev):
        if report.head_seq > last:
            report.problem = Problem(
                "deleted",
                None,
                None,
                last + 1,
                f"the chain ends at {last} but its head says {report.head_seq}: the last "
                "records were deleted",
            )
        else:
            report.problem = Problem(
                "edited", None, None, last, "the chain's head does not match its last record"
            )
    return report


def chain_keys(session: Session) -> list[str]:
    """Every chain there is (tenants with records or a head, and the operator's)."""
    keys = {str(k) for k in session.scalars(select(LedgerHead.tenant_key))}
    for _table, (model, _cols) in CHAINED.items():
        for tenant_id in session.scalars(select(model.tenant_id).distinct()):  # type: ignore[attr-defined]
            keys.add(chain_key(tenant_id))
    return sorted(keys)


def proof(session: Session, table: str, record_id: Any) -> dict[str, Any] | None:
    """The chain proof of one record: its place, its link and its hash, and the head now."""
    model, _cols = CHAINED[table]
    row = session.execute(
        select(
            model.tenant_id,  # type: ignore[attr-defined]
            model.chain_seq,  # type: ignore[attr-defined]
            model.chain_prev,  # type: ignore[attr-defined]
            model.chain_hash,  # type: ignore[attr-defined]
        ).where(model.id == record_id)  # type: ignore[attr-defined]
    ).one_or_none()
    if row is None or row.chain_seq is None:
        return None
    return {"table": table, "seq": row.chain_seq, "prev": row.chain_prev, "hash": row.chain_hash}
