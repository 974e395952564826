"""The unit of work's outbox: what a transaction asks for happens after its commit, and only
then; a rollback or a close without commit drops it; a released savepoint is no commit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from relay.messages.lifecycle import MessageStatus, NewMessage, set_status
from relay.storage.db import make_session_factory
from relay.storage.models import Message
from relay.storage.unit_of_work import Outbox, install_outbox, outbox_of
from relay.wiring import build_runtime
from tests.relay.messages.test_lifecycle import row
from tests.support.factories import run_worker, sandbox_sends

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def flushed(rt):  # type: ignore[no-untyped-def]
    """Sessions on the test database whose outboxes land in a list, with what the database
    held at that moment (a fresh session, so only committed rows count)."""
    sessions = make_session_factory(rt.engine)
    seen: list[tuple[Outbox, list[str]]] = []

    def sink(box: Outbox) -> None:
        with sessions() as s:
            ids = [mid for mid, _ in box.deliveries]
            stored = s.scalars(select(Message.id).where(Message.id.in_(ids))).all()
        seen.append((box, sorted(stored)))

    install_outbox(sessions, sink)
    return sessions, seen


def test_the_outbox_is_handed_over_after_the_commit_with_the_rows_stored(flushed, tenant):
    sessions, seen = flushed
    with sessions() as s:
        ids = set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        assert seen == []  # nothing before the commit
        s.commit()
    [(box, stored)] = seen
    assert box.deliveries == [(ids[0], None)] and stored == ids
    assert box.status_changes == {ids[0]: "woocommerce"}


def test_a_rollback_or_a_close_without_commit_drops_it(flushed, tenant):
    sessions, seen = flushed
    with sessions() as s:
        set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        s.rollback()
        s.commit()  # a later commit of nothing does not bring it back
    with sessions() as s:
        set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
    with sessions() as s:
        s.execute(select(Message.id))
        s.commit()
    assert seen == []


def test_a_savepoint_is_no_commit(flushed, tenant):
    sessions, seen = flushed
    with sessions() as s:
        first = set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        with s.begin_nested():
            outbox_of(s).inbound_stored([7])
        assert seen == []
        s.commit()
    [(box, _)] = seen
    assert (box.deliveries, box.inbound) == ([(first[0], None)], [7])


def test_each_commit_flushes_its_own(flushed, tenant):
    sessions, seen = flushed
    with sessions() as s:
        a = set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        s.commit()
        b = set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        s.commit()
    assert [box.deliveries for box, _ in seen] == [[(a[0], None)], [(b[0], None)]]


def test_a_lost_queue_loses_no_message(rt, tenant, monkeypatch):
    """Redis refusing the enqueue after the commit: the rows stay, the sweeper sends them."""

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis is down")

    monkeypatch.setattr(rt.dispatcher, "dispatch", down)
    with rt.session() as s:
        [mid] = set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        s.commit()  # no exception: the commit stands
    monkeypatch.undo()
    with rt.session() as s:
        assert s.get(Message, mid).status == "queued"
    assert rt.redis.llen(f"rq:queue:{rt.config['QUEUE_NAME']}") == 0


def test_a_committed_message_reaches_the_gateway_through_the_outbox(rt, tenant):
    with rt.session() as s:
        [mid] = set_status(s, [NewMessage(row(tenant["id"]), MessageStatus.QUEUED)], NOW)
        s.commit()
    run_worker(rt)
    assert [m["message_id"] for m in sandbox_sends(rt)] == [mid]


def test_a_runtime_without_the_hook_has_sessions_with_an_outbox_all_the_same(rt):
    other = build_runtime(dict(rt.config))
    with other.session() as s:
        assert isinstance(outbox_of(s), Outbox)
    other.engine.dispose()
