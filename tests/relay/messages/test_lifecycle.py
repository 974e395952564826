"""The message lifecycle: the enum is the wire's vocabulary, the table refuses what it does
not allow, and `set_status` moves rows in bulk with their history and after-commit work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from relay.messages.lifecycle import (
    CLAIMABLE,
    FINAL,
    REPORTED_BY_RECEIPTS,
    TRANSITIONS,
    MessageStatus,
    Move,
    NewMessage,
    check_transition,
    set_status,
    sources,
)
from relay.storage.models import Message, MessageHistory
from relay.storage.types import new_id
from relay.storage.unit_of_work import outbox_of
from shared.writeback import MESSAGE_STATUSES

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
S = MessageStatus


def row(tenant_id: str, **kw):  # type: ignore[no-untyped-def]
    base = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "phone": "+375291234567",
        "channel": "sms",
        "category": "transactional",
        "text": "Заказ принят",
        "urgent": False,
        "segments": 1,
        "attempts": 0,
        "context": {"source": {"platform": "woocommerce"}},
        "created_at": NOW,
        "updated_at": NOW,
    }
    return {**base, **kw}


def create(rt, tenant_id: str, status: MessageStatus, n: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        ids = set_status(s, [NewMessage(row(tenant_id), status) for _ in range(n)], NOW)
        s.commit()
    return ids


def statuses(rt, ids):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return dict(s.execute(select(Message.id, Message.status).where(Message.id.in_(ids))).all())


def history(rt, mid):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return [
            (h.status, h.reason, h.detail)
            for h in s.scalars(
                select(MessageHistory)
                .where(MessageHistory.message_id == mid)
                .order_by(MessageHistory.id)
            )
        ]


def test_the_enum_is_the_wire_vocabulary_and_every_status_has_a_row():
    assert [s.value for s in MessageStatus] == list(MESSAGE_STATUSES)
    assert MessageStatus.SENT == "sent" and isinstance(MessageStatus.SENT, str)
    assert set(TRANSITIONS) == {None, *MessageStatus}
    assert TRANSITIONS[None] == {S.SCHEDULED, S.QUEUED, S.BLOCKED}
    for final in (S.READ, S.BLOCKED, S.CANCELLED):
        assert TRANSITIONS[final] == frozenset()
    # a final status takes nothing but a late "read"
    assert all(TRANSITIONS[s] <= {S.READ} for s in FINAL)
    assert set(CLAIMABLE) == {S.SCHEDULED, S.QUEUED}


def test_a_receipt_moves_forward_only():
    assert S.DELIVERED in sources(S.READ) and S.READ not in sources(S.DELIVERED)
    assert S.UNDELIVERED not in sources(S.DELIVERED)  # a late "delivered" does not overwrite
    assert S.BLOCKED not in sources(S.SENT) and S.CANCELLED not in sources(S.DELIVERED)
    for receipt in REPORTED_BY_RECEIPTS:  # a receipt may overtake the relay's own steps
        assert {S.QUEUED, S.SENDING, S.UNKNOWN} <= set(sources(receipt))


@pytest.mark.parametrize(
    ("frm", "to"),
    [(S.DELIVERED, S.QUEUED), (S.BLOCKED, S.SENDING), (S.CANCELLED, S.QUEUED), (None, S.SENT)],
)
def test_the_table_refuses_what_it_does_not_allow(frm, to):
    with pytest.raises(ValueError, match=f"to {to}"):
        check_transition(frm, to)


def test_set_status_refuses_a_forbidden_move_naming_it(rt, tenant):
    [mid] = create(rt, tenant["id"], S.QUEUED)
    with rt.session() as s:
        with pytest.raises(ValueError, match="from delivered to queued"):
            set_status(s, [mid], NOW, to=S.QUEUED, only_from=[S.DELIVERED])
        with pytest.raises(ValueError, match="'bounced'"):
            set_status(s, [mid], NOW, to="bounced")
        with pytest.raises(ValueError, match="from nothing to sent"):
            set_status(s, [NewMessage(row(tenant["id"]), S.SENT)], NOW)
    assert statuses(rt, [mid]) == {mid: "queued"}


def test_a_message_moves_only_from_a_status_the_table_allows(rt, tenant):
    [done] = create(rt, tenant["id"], S.QUEUED)
    with rt.session() as s:
        set_status(s, [done], NOW, to=S.SENDING)
        set_status(s, [done], NOW, to=S.DELIVERED)
        s.commit()
    with rt.session() as s:
        # a late failure report must not overwrite the delivery
        assert set_status(s, [done], NOW, to=S.FAILED, only_from=[S.SENDING, S.SENT]) == []
        assert set_status(s, [done], NOW, to=S.UNDELIVERED) == []
        s.commit()
    assert statuses(rt, [done]) == {done: "delivered"}
    assert [h[0] for h in history(rt, done)] == ["queued", "sending", "delivered"]


def test_moves_in_bulk_write_one_history_row_each_and_only_for_what_moved(rt, tenant):
    ids = create(rt, tenant["id"], S.QUEUED, 5)
    with rt.session() as s:
        set_status(s, ids[:1], NOW, to=S.CANCELLED, detail="cancelled by order.paid")
        s.commit()
    with rt.session() as s:
        moved = set_status(s, ids, NOW, to=S.SENDING, only_from=CLAIMABLE, values={"attempts": 1})
        s.commit()
    assert sorted(moved) == sorted(ids[1:])
    assert history(rt, ids[0]) == [
        ("queued", None, None),
        ("cancelled", None, "cancelled by order.paid"),
    ]
    assert all(history(rt, i)[-1] == ("sending", None, None) for i in ids[1:])


def test_each_move_gets_its_own_columns_and_history(rt, tenant):
    ids = create(rt, tenant["id"], S.QUEUED, 3)
    with rt.session() as s:
        set_status(s, ids, NOW, to=S.SENDING)
        s.commit()
    later = [NOW + timedelta(seconds=30 * (i + 1)) for i in range(3)]
    with rt.session() as s:
        moves = [
            Move(mid, S.QUEUED, None, f"retry {i}", {"not_before": at, "error": f"e{i}"})
            for i, (mid, at) in enumerate(zip(ids, later, strict=True))
        ]
        assert sorted(set_status(s, moves, NOW, only_from=[S.SENDING])) == sorted(ids)
        assert outbox_of(s).deliveries == [(m.id, m.values["not_before"]) for m in moves]
        s.commit()
    with rt.session() as s:
        got = {m.id: (m.status, m.not_before, m.error) for m in s.scalars(select(Message))}
    pairs = enumerate(zip(ids, later, strict=True))
    want = {mid: ("queued", at, f"e{i}") for i, (mid, at) in pairs}
    assert got == want
    assert history(rt, ids[2])[-1] == ("queued", None, "retry 2")


def test_a_loaded_row_is_kept_in_step(rt, tenant):
    [mid] = create(rt, tenant["id"], S.QUEUED)
    with rt.session() as s:
        msg = s.get(Message, mid)
        set_status(s, [msg], NOW, to=S.CANCELLED, values={"reason_detail": "by hand"})
        assert (msg.status, msg.reason_detail) == ("cancelled", "by hand")
        assert not s.dirty  # nothing left for the ORM to write again
        s.commit()


def test_creating_if_absent_makes_one_row_however_often(rt, tenant):
    fixed = row(tenant["id"])
    with rt.session() as s:
        first = set_status(s, [NewMessage(dict(fixed), S.QUEUED)], NOW, if_absent=True)
        again = set_status(s, [NewMessage(dict(fixed), S.QUEUED)], NOW, if_absent=True)
        s.commit()
    assert (first, again) == ([fixed["id"]], [])
    assert history(rt, fixed["id"]) == [("queued", None, None)]


def test_a_bulk_creation_stores_every_value_as_a_single_row_would(rt, tenant):
    # 300 rows: PostgreSQL gets COPY for the messages and their history; the values must read
    # back as an INSERT stores them (NUL replaced there, equal instants in different zones)
    minsk = timezone(timedelta(hours=3))
    zones: list[list[str]] = [["Europe/Minsk"], ["Europe/Moscow", "Asia/Omsk"], []]
    rows = [
        row(
            tenant["id"],
            text=f"Заказ\t{i}\\n\x00" if i % 2 else f"Заказ {i}",
            not_before=(NOW if i % 3 else NOW.astimezone(minsk)) + timedelta(minutes=i // 100),
            timezones=zones[i % 3],
            context={"contact": {"id": i, "name": "Ёж \x00"}},
        )
        for i in range(300)
    ]
    with rt.session() as s:
        ids = set_status(s, [NewMessage(dict(r), S.SCHEDULED, "quiet_hours") for r in rows], NOW)
        s.commit()
    assert ids == [r["id"] for r in rows]
    nul = "\ufffd" if rt.engine.dialect.name == "postgresql" else "\x00"
    with rt.session() as s:
        stored = {
            m.id: (m.text, m.not_before, m.timezones, m.context, m.status, m.reason)
            for m in s.scalars(select(Message).where(Message.id.in_(ids)))
        }
        lines = s.execute(
            select(MessageHistory.message_id, MessageHistory.status, MessageHistory.reason)
            .where(MessageHistory.message_id.in_(ids))
            .order_by(MessageHistory.id)
        ).all()
    for i, r in enumerate(rows):
        text = f"Заказ\t{i}\\n{nul}" if i % 2 else f"Заказ {i}"
        context = {"contact": {"id": i, "name": "Ёж \x00"}}  # JSON escapes it: kept as it is
        when = NOW + timedelta(minutes=i // 100)
        expected = (text, when, zones[i % 3], context, "scheduled", "quiet_hours")
        assert stored[r["id"]] == expected
    assert [tuple(line) for line in lines] == [(i, "scheduled", "quiet_hours") for i in ids]


def test_the_outbox_gets_the_queue_and_the_platforms_of_what_changed(rt, tenant):
    with rt.session() as s:
        later = NOW + timedelta(hours=1)
        new = [
            NewMessage(row(tenant["id"]), S.QUEUED),
            NewMessage(row(tenant["id"], not_before=later), S.SCHEDULED, "quiet_hours", "22:00"),
            NewMessage(row(tenant["id"], context=None), S.BLOCKED, "stop_list", "STOP"),
        ]
        set_status(s, new, NOW)
        box = outbox_of(s)
        assert box.deliveries == [(new[0].id, None), (new[1].id, later)]
        # `scheduled` is the relay's own step: only what a platform hears about is reported
        assert box.status_changes == {new[0].id: "woocommerce", new[2].id: ""}
        assert box.reports_for({"woocommerce"}) == [new[0].id]
        s.rollback()
    assert statuses(rt, [n.id for n in new]) == {}


def test_per_message_moves_are_one_statement_on_postgresql(rt, tenant):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in-process: it updates per-message values row by row")
    ids = create(rt, tenant["id"], S.QUEUED, 60)
    with rt.session() as s:
        set_status(s, ids, NOW, to=S.SENDING)
        s.commit()
    statements: list[str] = []

    def collect(_conn, _cursor, statement, *_rest):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(rt.engine, "before_cursor_execute", collect)
    try:
        with rt.session() as s:
            moves = [
                Move(mid, S.QUEUED if i % 2 else S.FAILED, None, "x", {"error": f"e{i}"})
                for i, mid in enumerate(ids)
            ]
            assert len(set_status(s, moves, NOW, only_from=[S.SENDING])) == 60
            s.commit()
    finally:
        event.remove(rt.engine, "before_cursor_execute", collect)
    writes = [q for q in statements if "UPDATE messages" in q or "message_history" in q]
    # one statement for the batch, whatever the targets: the UPDATE and its history rows
    assert len(writes) == 1
    assert all("UPDATE messages" in q and "INSERT INTO message_history" in q for q in writes)


def test_a_status_passed_on_the_way_is_in_the_history_in_order(rt, tenant):
    ids = create(rt, tenant["id"], S.QUEUED, 3)
    with rt.session() as s:
        set_status(s, ids, NOW, to=S.SENDING)
        s.commit()
    with rt.session() as s:
        with pytest.raises(ValueError, match="from sent to queued"):
            set_status(s, [Move(ids[0], S.QUEUED, via=(S.SENT, "x"))], NOW)
        moves = [
            Move(mid, S.DELIVERED, None, "receipt from sandbox", {"provider": "sandbox"},
                 via=(S.SENT, "accepted by sandbox"))
            for mid in ids
        ]  # fmt: skip
        assert sorted(set_status(s, moves, NOW, only_from=[S.SENDING])) == sorted(ids)
        s.commit()
    assert statuses(rt, ids) == {mid: "delivered" for mid in ids}
    assert history(rt, ids[1]) == [
        ("queued", None, None),
        ("sending", None, None),
        ("sent", None, "accepted by sandbox"),
        ("delivered", None, "receipt from sandbox"),
    ]
