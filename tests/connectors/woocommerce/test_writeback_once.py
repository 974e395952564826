"""Write-back exactly once per (message, status): however many workers handle the same
message at once and however slowly the store answers, one note per status. The marker is
claimed in the relay's database (writeback_claims) before the REST call."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import delete, select

from relay.platforms.installations import DbClaimStore
from relay.platforms.writeback import run_writeback
from relay.storage.models import Message, WritebackClaim
from relay.storage.types import utcnow
from tests.connectors.woocommerce.helpers import deliver, order
from tests.support.factories import run_worker


def _workers(count: int, target, *args):  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        try:
            start.wait()
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_two_workers_and_a_slow_store_write_exactly_one_note_per_status(rt, client, shop):
    store = shop["store"]
    deliver(client, shop["source"], "order.created", order())
    run_worker(rt)
    with rt.session() as s:
        [msg] = s.scalars(select(Message)).all()
        assert msg.status == "delivered"
        s.execute(delete(WritebackClaim))  # start over: nothing noted yet
        s.commit()
    store.notes[727].clear()
    store.calls.clear()
    store.delay = 0.8  # every answer of the store takes 0.8 s

    _workers(2, run_writeback, rt, [msg.id])

    notes = [n["note"] for n in store.notes[727]]
    assert sorted(n.rsplit(" ", 1)[-1] for n in notes) == ["delivered]", "sent]"], notes
    assert "Текст: «" in next(n for n in notes if n.endswith("sent]"))
    posts = [c for c in store.calls if c.method == "POST"]
    assert len(posts) == 2  # one REST call per status, never a second one racing it

    # a third and fourth worker later: nothing more
    store.delay = 0.0
    _workers(2, run_writeback, rt, [msg.id])
    assert len(store.notes[727]) == 2


def test_a_store_that_is_down_releases_the_claim_for_the_retry(rt, client, shop):
    store = shop["store"]
    deliver(client, shop["source"], "order.created", order())
    store.fail_status = [503] * 100  # every read of the first job fails
    try:
        run_worker(rt)
    except Exception:  # noqa: BLE001 - the write-back job fails and RQ keeps it for a retry
        pass
    assert store.notes[727] == []
    with rt.session() as s:
        [msg] = s.scalars(select(Message)).all()
        claims = s.scalars(select(WritebackClaim)).all()
        assert all(c.status == "released" for c in claims)
    store.fail_status = []
    run_writeback(rt, [msg.id])
    assert len(store.notes[727]) == 2


def test_claims_are_atomic_and_a_dead_workers_claim_expires(rt):
    claims = DbClaimStore(rt)
    assert claims.claim("k") is True
    assert claims.claim("k") is False  # held
    claims.release("k")
    assert claims.claim("k") is True  # released: the retry takes it
    claims.complete("k")
    assert claims.claim("k", lease_seconds=0) is False  # done is done, whatever the lease
    assert claims.claim("dead") is True
    with rt.session() as s:
        row = s.get(WritebackClaim, "dead")
        row.claimed_at = utcnow() - timedelta(minutes=10)
        s.commit()
    assert claims.claim("dead", lease_seconds=300) is True  # its worker died: taken over
    assert claims.claim("dead", lease_seconds=300) is False


def test_many_threads_race_for_one_claim_and_one_wins(rt):
    claims = DbClaimStore(rt)
    won: list[bool] = []
    lock = threading.Lock()

    def race() -> None:
        result = claims.claim("race")
        with lock:
            won.append(result)

    _workers(6, race)
    assert sorted(won) == [False] * 5 + [True]
