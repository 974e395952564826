"""The message lifecycle: the statuses, which status may follow which, and `set_status`, the
one function that gives a message a status (docs/architecture.md, 'Message lifecycle').

Every status a message ever has is written here: the first one when its row is created
(intake, campaign planning, a test send, a keyword reply, a Viber message's SMS fallback) and
every later one (a worker's claim, the send's outcome, a receipt, the sweeper, a campaign's
pause, resume and cancel). `set_status` writes the rows in bulk, refuses a transition the table
does not allow, writes one history row per change and notes in the session's outbox what must
follow the commit: the ids for the delivery queue and the status reports for the platforms.
A test (tests/relay/messages/test_one_status_writer.py) fails when any other module writes a
message status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnDefault,
    ColumnElement,
    String,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql.elements import ClauseElement

from relay.adapters.bulk_rows import bulk_insert
from relay.storage.models import Message, MessageHistory
from relay.storage.unit_of_work import Outbox, outbox_of
from shared.writeback import MESSAGE_STATUSES


class MessageStatus(StrEnum):
    """Where a message is. The values are the wire names of `shared.writeback.MESSAGE_STATUSES`,
    stored as they are in `messages.status` and `message_history.status`."""

    SCHEDULED = "scheduled"  # decided; waits for its not_before (delay, quiet hours, pace, pause)
    QUEUED = "queued"  # may go now, or at its not_before (a retry, a throttle)
    SENDING = "sending"  # claimed by a worker; the gateway is being called
    SENT = "sent"  # the gateway accepted it
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    EXPIRED = "expired"
    BLOCKED = "blocked"  # the policy said no (reason and detail say why)
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # the gateway may have it (no answer): never resent blindly


if tuple(MessageStatus) != MESSAGE_STATUSES:  # the wire vocabulary and the enum are one list
    raise RuntimeError(
        f"MessageStatus {tuple(MessageStatus)} differs from the wire's {MESSAGE_STATUSES}"
    )

_S = MessageStatus
# a worker may still claim these; everything else is in flight or over
CLAIMABLE: tuple[MessageStatus, ...] = (_S.SCHEDULED, _S.QUEUED)
# still moving: never archived, counted as what a campaign has left
LIVE: tuple[MessageStatus, ...] = (*CLAIMABLE, _S.SENDING)
# nothing will be sent any more (only a late "read" receipt may still come)
FINAL: tuple[MessageStatus, ...] = (
    _S.DELIVERED,
    _S.READ,
    _S.UNDELIVERED,
    _S.FAILED,
    _S.EXPIRED,
    _S.BLOCKED,
    _S.CANCELLED,
)
# what a gateway's delivery receipt may report
REPORTED_BY_RECEIPTS: tuple[MessageStatus, ...] = (
    _S.SENT,
    _S.DELIVERED,
    _S.READ,
    _S.UNDELIVERED,
    _S.FAILED,
    _S.EXPIRED,
)
# handed to a gateway (a campaign counts these as sent)
WITH_GATEWAY: tuple[MessageStatus, ...] = (
    _S.SENT,
    _S.DELIVERED,
    _S.READ,
    _S.UNDELIVERED,
    _S.EXPIRED,
    _S.UNKNOWN,
)
# what a platform hears about: `scheduled` and `sending` are the relay's own steps
REPORTED_TO_PLATFORMS: tuple[MessageStatus, ...] = tuple(
    s for s in MessageStatus if s not in (_S.SCHEDULED, _S.SENDING)
)

# The allowed transitions: from a status (None: the message is being created) to the statuses
# it may take next. A receipt may overtake the relay's own steps (it reports a gateway's
# earlier attempt), so every not-yet-final status may take a receipt's status; a final one
# only a later "read".
TRANSITIONS: Mapping[MessageStatus | None, frozenset[MessageStatus]] = {
    None: frozenset({_S.SCHEDULED, _S.QUEUED, _S.BLOCKED}),
    _S.SCHEDULED: frozenset(
        {_S.SCHEDULED, _S.QUEUED, _S.SENDING, _S.BLOCKED, _S.CANCELLED, *REPORTED_BY_RECEIPTS}
    ),
    _S.QUEUED: frozenset({_S.SCHEDULED, _S.SENDING, _S.CANCELLED, *REPORTED_BY_RECEIPTS}),
    _S.SENDING: frozenset({_S.QUEUED, _S.SCHEDULED, _S.BLOCKED, _S.UNKNOWN, *REPORTED_BY_RECEIPTS}),
    # a receipt, the gateway's answer to a status query, or an operator's decision (resend:
    # queued again; fail) settles an `unknown` (docs/security.md, "Stranded batches")
    _S.UNKNOWN: frozenset({_S.QUEUED, *REPORTED_BY_RECEIPTS}),
    _S.SENT: frozenset({_S.DELIVERED, _S.READ, _S.UNDELIVERED, _S.FAILED, _S.EXPIRED}),
    _S.DELIVERED: frozenset({_S.READ}),
    _S.UNDELIVERED: frozenset({_S.READ}),
    _S.FAILED: frozenset({_S.READ}),
    _S.EXPIRED: frozenset({_S.READ}),
    _S.READ: frozenset(),
    _S.BLOCKED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def status(value: Any) -> MessageStatus:
    """`value` as a MessageStatus; ValueError naming it when it is none."""
    try:
        return MessageStatus(value)
    except ValueError:
        raise ValueError(
            f"unknown message status {value!r}; one of {', '.join(MessageStatus)}"
        ) from None


def sources(to: MessageStatus) -> tuple[MessageStatus, ...]:
    """Every status a message may reach `to` from, in the enum's order."""
    return tuple(s for s in MessageStatus if to in TRANSITIONS[s])


def check_transition(frm: MessageStatus | None, to: MessageStatus) -> None:
    """ValueError naming the offending statuses unless the table allows `frm` → `to`."""
    if to not in TRANSITIONS[frm]:
        raise ValueError(
            f"a message cannot go from {frm or 'nothing'!s} to {to!s}; from {frm or 'nothing'!s}"
            f" it may go to: {', '.join(sorted(TRANSITIONS[frm])) or 'nothing'}"
        )


@dataclass(frozen=True, slots=True)
class Move:
    """One existing message to a status of its own, with its own history line and columns."""

    message: str | Message  # the id, or the loaded row (kept in step with what is written)
    to: MessageStatus
    reason: str | None = None  # the history row's reason
    detail: str | None = None  # the history row's detail
    values: Mapping[str, Any] = field(default_factory=dict)  # columns set with the status
    # a status passed through on the way, with its history detail: a send whose receipt came
    # with it is `sent` and then `delivered` in one change (both in the history, one UPDATE)
    via: tuple[MessageStatus, str | None] | None = None

    @property
    def id(self) -> str:
        """The message's id."""
        return self.message if isinstance(self.message, str) else self.message.id


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message row to create, with the status it starts in (stored with reason and detail as
    `reason` and `reason_detail`; the history row says `history_detail` when given)."""

    row: Message | dict[str, Any]  # a transient Message, or the columns as a dict
    status: MessageStatus
    reason: str | None = None
    detail: str | None = None
    history_detail: str | None = None

    @property
    def id(self) -> str:
        """The message's id."""
        return self.row["id"] if isinstance(self.row, dict) else self.row.id


_T = Message.__table__
_HISTORY = MessageHistory.__table__
_CHUNK = 5000  # ids per statement: far below the drivers' parameter limits
_COPY_FROM = 200  # rows from which PostgreSQL gets COPY instead of a multi-row INSERT


def set_status(
    session: Session,
    changes: Iterable[str | Message | Move | NewMessage],
    at: datetime,
    *,
    to: MessageStatus | str | None = None,
    only_from: Iterable[MessageStatus | str] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    reason: str | None = None,
    detail: str | None = None,
    values: Mapping[str, Any] | None = None,
    enqueue: bool = True,
    if_absent: bool = False,
) -> list[str]:
    """Give messages a status, in bulk, with their history rows; returns the ids that changed.

    `changes` holds message ids or loaded rows (moved `to`, with `reason`/`detail` in the
    history and `values` as further columns), `Move`s (each with its own status, history line
    and columns) and `NewMessage`s (rows created in their first status; `if_absent` skips an
    id that exists). With `where` and no ids, every message matching it moves `to`.

    A message moves only while it is in `only_from` (default: every status the transition
    table lets reach the target), checked by the UPDATE itself, so a concurrent change (a
    receipt that was faster) wins and this one is left out of the result and the history.
    `only_from` naming a status the table does not let reach the target, an unknown status
    and a first status other than scheduled, queued or blocked raise ValueError.

    After the commit, the session's outbox reports every change to the platforms and, unless
    `enqueue` is false, puts the messages that became queued or scheduled on the delivery
    queue with their `not_before`. On PostgreSQL the ids of one call, or its Moves leaving the
    same statuses, are one statement with their history rows, never one per message (SQLite,
    in-process, updates per-message values row by row).
    """
    box = outbox_of(session)
    target = status(to) if to is not None else None
    created: list[NewMessage] = []
    moves: list[Move] = []
    same: list[str | Message] = []
    for item in changes:
        if isinstance(item, NewMessage):
            created.append(item)
        elif isinstance(item, Move):
            moves.append(item)
        elif isinstance(item, str | Message):
            same.append(item)
        else:
            raise TypeError(f"set_status takes ids, Messages, Moves or NewMessages, got {item!r}")
    guard_from = None if only_from is None else tuple(status(s) for s in only_from)
    done: list[str] = []
    if created:
        done += _create(session, box, created, at, if_absent, enqueue)
    if same or (where and not created and not moves):
        if target is None:
            raise ValueError("set_status needs `to` for ids, rows or a `where` selection")
        done += _move_same(
            session, box, same, target, _guard(target, guard_from), where, at,
            reason, detail, dict(values or {}), enqueue,
        )  # fmt: skip
    # one statement for all the moves that may leave the same statuses, whatever their target
    groups: dict[tuple[MessageStatus, ...], list[Move]] = {}
    for move in moves:
        to, via = status(move.to), status(move.via[0]) if move.via else None
        if via is not None:
            check_transition(via, to)
        groups.setdefault(_guard(via or to, guard_from), []).append(move)
    for guard, group in groups.items():
        done += _move_each(session, box, group, guard, where, at, dict(values or {}), enqueue)
    return done


def _guard(
    to: MessageStatus, only_from: tuple[MessageStatus, ...] | None
) -> tuple[MessageStatus, ...]:
    if only_from is None:
        return sources(to)
    for frm in only_from:
        check_transition(frm, to)
    return only_from


def ids_in(session: Session, column: Any, ids: Sequence[str]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `= ANY(array)`, one parameter instead of one per id
    (a batch's statement is then the same text whatever its size, cheap to send and plan)."""
    cond: ColumnElement[bool]
    if _postgres(session):
        cond = column == func.any(_array(list(ids), _T.c.id.type))
    else:
        cond = column.in_(list(ids))
    return cond


def _platform_column(session: Session) -> ColumnElement[Any]:
    """The platform a message came from (`context.source.platform`), read by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("(messages.context::json -> 'source' ->> 'platform')")
    return literal_column("json_extract(messages.context, '$.source.platform')")


def _note(
    box: Outbox,
    moved: list[tuple[str, str | None]],
    to: MessageStatus,
    not_before: Mapping[str, datetime | None] | datetime | None,
    enqueue: bool,
) -> None:
    if to in REPORTED_TO_PLATFORMS:  # `scheduled` and `sending` are the relay's own steps
        box.status_changed([mid for mid, _ in moved], [p or "" for _, p in moved])
    if enqueue and to in CLAIMABLE:
        if isinstance(not_before, Mapping):
            box.deliver((mid, not_before.get(mid)) for mid, _ in moved)
        else:
            box.deliver((mid, not_before) for mid, _ in moved)


def _history(session: Session, rows: list[dict[str, Any]]) -> None:
    """History rows of created messages: one INSERT … SELECT unnest(…) on PostgreSQL, COPY
    from `_COPY_FROM` rows (a campaign chunk's: the arrays' values are dumped one by one in
    Python, COPY's by psycopg's compiled dumpers)."""
    if not rows:
        return
    if not _postgres(session):
        session.execute(insert(_HISTORY), rows)
        return
    if len(rows) >= _COPY_FROM:
        bulk_insert(session, _HISTORY, rows)
        return
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        arrays = [_array([r[name] for r in chunk], col.type) for name, col in _HISTORY_COLUMNS]
        source = func.unnest(*arrays).table_valued(*(n for n, _ in _HISTORY_COLUMNS))
        session.execute(
            insert(_HISTORY).from_select(
                [n for n, _ in _HISTORY_COLUMNS], select(*source.render_derived().c)
            )
        )


_HISTORY_COLUMNS = [(n, _HISTORY.c[n]) for n in ("message_id", "status", "reason", "detail", "at")]


def _line(
    mid: str, to: MessageStatus, reason: str | None, detail: str | None, at: datetime
) -> dict[str, Any]:
    return {"message_id": mid, "status": to.value, "reason": reason, "detail": detail, "at": at}


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _and_history(
    session: Session,
    moved: Any,
    at: datetime,
    to: MessageStatus | None = None,
    reason: Any = None,
    detail: Any = None,
) -> list[tuple[str, str | None]]:
    """PostgreSQL: run the UPDATE … RETURNING (a CTE) and write its history rows in the same
    statement, one round trip for the batch. Without `to`, each row's status, history line and
    the status it passed on the way (first in the history) come from the CTE's columns."""
    when = literal(at, _HISTORY.c.at.type)
    cols = ["message_id", "status", "reason", "detail", "at"]
    if to is not None:
        rows = select(moved.c.id, literal(to.value, String()), reason, detail, when)
    else:
        passed = select(
            moved.c.id, moved.c.v_status, literal(None, String()), moved.c.v_detail, when,
            literal(0).label("step"),
        ).where(moved.c.v_status.is_not(None))  # fmt: skip
        final = select(
            moved.c.id, moved.c.h_status, moved.c.h_reason, moved.c.h_detail, when,
            literal(1).label("step"),
        )  # fmt: skip
        both = union_all(passed, final).subquery()
        rows = select(*list(both.c)[:5]).order_by(both.c.step)
    hist = insert(_HISTORY).from_select(cols, rows)
    out = select(moved.c.id, moved.c.platform).add_cte(hist.cte("hist"))
    return [tuple(r) for r in session.execute(out)]


def _plain(value: Any) -> bool:
    return not isinstance(value, ClauseElement)


def _sync(msg: Message, to: MessageStatus, values: Mapping[str, Any]) -> None:
    """Keep a loaded row in step with what was written, as if loaded so (the ORM will not
    write it again)."""
    state = instance_state(msg)
    plain = {k: v for k, v in values.items() if _plain(v)}
    plain["status"] = to.value
    state.dict.update(plain)
    # what SQLAlchemy does for a partial load: the values count as loaded, nothing is pending
    # (set_committed_value per column does the same, at ten times the cost on a hot path)
    state._commit(state.dict, list(plain))


def _move_same(
    session: Session,
    box: Outbox,
    items: list[str | Message],
    to: MessageStatus,
    guard: tuple[MessageStatus, ...],
    where: Sequence[ColumnElement[bool]],
    at: datetime,
    reason: str | None,
    detail: str | None,
    values: dict[str, Any],
    enqueue: bool,
) -> list[str]:
    columns = {"updated_at": at, **values, "status": to.value}
    stmt = (
        update(_T)
        .where(_T.c.status.in_([s.value for s in guard]), *where)
        .values(**columns)
        .returning(_T.c.id.label("id"), _platform_column(session).label("platform"))
    )
    ids = [i if isinstance(i, str) else i.id for i in items]
    chunks = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)] if ids else [None]
    moved: list[tuple[str, str | None]] = []
    for chunk in chunks:
        part = stmt if chunk is None else stmt.where(ids_in(session, _T.c.id, chunk))
        if _postgres(session):
            moved += _and_history(
                session,
                part.cte("moved"),
                at,
                to,
                literal(reason, _HISTORY.c.reason.type),
                literal(detail, _HISTORY.c.detail.type),
            )
        else:
            rows = [tuple(r) for r in session.execute(part)]
            _history(session, [_line(mid, to, reason, detail, at) for mid, _ in rows])
            moved += rows
    if not moved:
        return []
    won = {mid for mid, _ in moved}
    for item in items:
        if isinstance(item, Message) and item.id in won:
            _sync(item, to, columns)
    _note(box, moved, to, values.get("not_before"), enqueue)
    return [mid for mid, _ in moved]


def _move_each(
    session: Session,
    box: Outbox,
    moves: list[Move],
    guard: tuple[MessageStatus, ...],
    where: Sequence[ColumnElement[bool]],
    at: datetime,
    shared: dict[str, Any],
    enqueue: bool,
) -> list[str]:
    keys = sorted({k for m in moves for k in m.values})
    base = {"updated_at": at, **shared}
    allowed = _T.c.status.in_([s.value for s in guard])
    platform = _platform_column(session).label("platform")
    moved: list[tuple[str, str | None]] = []
    if _postgres(session):
        # one UPDATE … FROM unnest(arrays) and its history rows in one statement: every row
        # gets its own status and values (a column a move does not name keeps its value), and
        # RETURNING says which rows were still in a status the move may leave
        for start in range(0, len(moves), _CHUNK):
            chunk = moves[start : start + _CHUNK]
            names = ["id", "h_status", "h_reason", "h_detail", "v_status", "v_detail"]
            arrays = [
                _array([m.id for m in chunk], _T.c.id.type),
                _array([status(m.to).value for m in chunk], _T.c.status.type),
                _array([m.reason for m in chunk], _HISTORY.c.reason.type),
                _array([m.detail for m in chunk], _HISTORY.c.detail.type),
                _array([status(m.via[0]).value if m.via else None for m in chunk], String()),
                _array([m.via[1] if m.via else None for m in chunk], _HISTORY.c.detail.type),
            ]
            partial = [k for k in keys if any(k not in m.values for m in chunk)]
            for k in keys:
                names.append(k)
                arrays.append(_array([m.values.get(k) for m in chunk], _T.c[k].type))
            for k in partial:
                names.append(f"has_{k}")
                arrays.append(_array([k in m.values for m in chunk], Boolean()))
            rows = func.unnest(*arrays).table_valued(*(column(n) for n in names)).render_derived()
            columns = {
                k: case((rows.c[f"has_{k}"], rows.c[k]), else_=_T.c[k]) if k in partial
                else rows.c[k]
                for k in keys
            }  # fmt: skip
            stmt = (
                update(_T)
                .where(_T.c.id == rows.c.id, allowed, *where)
                .values({**base, **columns, "status": rows.c.h_status})
                .returning(_T.c.id.label("id"), platform, *(rows.c[n] for n in names[1:6]))
                .cte("moved")
            )
            moved += _and_history(session, stmt, at)
    else:
        for m in moves:
            one = (
                update(_T)
                .where(_T.c.id == m.id, allowed, *where)
                .values({**base, **m.values, "status": status(m.to).value})
                .returning(_T.c.id, platform)
            )
            for mid, where_from in session.execute(one):
                moved.append((mid, where_from))
                lines = [_line(m.id, status(m.via[0]), None, m.via[1], at)] if m.via else []
                _history(session, [*lines, _line(m.id, status(m.to), m.reason, m.detail, at)])
    if not moved:
        return []
    by_id = {m.id: m for m in moves}
    by_target: dict[MessageStatus, list[tuple[str, str | None]]] = {}
    for mid, where_from in moved:
        move = by_id[mid]
        by_target.setdefault(status(move.to), []).append((mid, where_from))
        if isinstance(move.message, Message):
            _sync(move.message, status(move.to), {**base, **move.values})
    not_before = {m.id: m.values.get("not_before", shared.get("not_before")) for m in moves}
    for to, pairs in by_target.items():
        _note(box, pairs, to, not_before, enqueue)
    return [mid for mid, _ in moved]


def _array(items: list[Any], kind: Any) -> ColumnElement[Any]:
    array = ARRAY(kind)
    return cast(bindparam(None, items, type_=array), array)


def _row(item: NewMessage) -> dict[str, Any]:
    if isinstance(item.row, dict):
        row = dict(item.row)
    else:
        row = {}
        for col in _T.columns:
            value = getattr(item.row, col.key)
            default = col.default
            if value is None and isinstance(default, ColumnDefault):
                value = default.arg(None) if default.is_callable else default.arg
            row[col.key] = value
    row.update(status=item.status.value, reason=item.reason, reason_detail=item.detail)
    return row


def _create(
    session: Session,
    box: Outbox,
    items: list[NewMessage],
    at: datetime,
    if_absent: bool,
    enqueue: bool,
) -> list[str]:
    for item in items:
        check_transition(None, status(item.status))
    rows = [_row(item) for item in items]
    if enqueue:
        # the outbox puts them on the queue after commit: the sweeper (relay/delivery/sweeper.py)
        # re-enqueues only what was last put there longer ago than its grace, not every fresh row
        for item, row in zip(items, rows, strict=True):
            row.setdefault("enqueued_at", None)  # one column set for the whole multi-row INSERT
            if item.status in CLAIMABLE and row["enqueued_at"] is None:
                row["enqueued_at"] = at
    if if_absent:
        dialect = session.get_bind().dialect.name
        dml = pg_insert if dialect == "postgresql" else sqlite_insert
        made = set()
        for row in rows:  # a fallback or two at a time: the conflict check is the point
            hit = session.execute(
                dml(_T)
                .values(**row)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(_T.c.id)
            ).first()
            if hit is not None:
                made.add(hit[0])
        pairs = [(item, row) for item, row in zip(items, rows, strict=True) if row["id"] in made]
    else:
        if len(rows) >= _COPY_FROM:
            bulk_insert(session, _T, rows)
        else:
            session.execute(insert(_T), rows)
        pairs = list(zip(items, rows, strict=True))
    if not pairs:
        return []
    _history(
        session,
        [
            {
                "message_id": row["id"],
                "status": row["status"],
                "reason": item.reason,
                "detail": item.history_detail if item.history_detail is not None else item.detail,
                "at": at,
            }
            for item, row in pairs
        ],
    )
    for item, row in pairs:
        if isinstance(item.row, Message):
            for key in ("status", "reason", "reason_detail"):
                set_committed_value(item.row, key, row[key])
    reported = [(item, row) for item, row in pairs if item.status in REPORTED_TO_PLATFORMS]
    box.status_changed(
        [row["id"] for _, row in reported],
        [_platform_of(row.get("context")) for _, row in reported],
    )
    if enqueue:
        box.deliver(
            (row["id"], row.get("not_before")) for item, row in pairs if item.status in CLAIMABLE
        )
    return [row["id"] for _, row in pairs]


def _platform_of(context: Any) -> str:
    source = (context or {}).get("source") if isinstance(context, dict) else None
    platform = source.get("platform") if isinstance(source, dict) else None
    return platform if isinstance(platform, str) else ""


def forget_history_details(session: Session, messages: Any) -> None:
    """Erase the free-text detail of the history of `messages` (a SELECT of message ids):
    the statuses, reasons and times stay, so the history still tells what happened (an erasure
    on request, relay/compliance/erasure.py). The one write to history outside `set_status`."""
    session.execute(
        update(MessageHistory)
        .where(MessageHistory.message_id.in_(messages))
        .values(detail=None)
        .execution_options(synchronize_session=False)
    )
