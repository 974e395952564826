"""Delivery through the SMPP adapter under faults, end to end: real events, the real delivery
job and sweeper, the adapter bound to the local SMSC (tests/support/smsc_server.py), counted
the way tests/faults/test_delivery_faults.py counts (docs/security.md, "Duplicate sends")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from relay.delivery.delivery import deliver
from tests.faults.test_delivery_faults import (
    _tenant_id,
    counts,
    post_messages,
    recover,
    statuses,
    use_gateway,
)
from tests.support.smsc_server import FakeSmsc


@pytest.fixture
def smsc() -> Iterator[FakeSmsc]:
    with FakeSmsc(system_id="relay", password="secret", timeout=3.0) as server:
        yield server


def _smpp(rt, smsc: FakeSmsc, ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    config = {
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "relay",
        "password": "secret",
        "source_addr": "SHOP",
        "timeout": 1.0,
    }
    use_gateway(rt, _tenant_id(rt, ids[0]), "smpp", config)


def _taken(smsc: FakeSmsc) -> list[str]:
    """The numbers the SMSC took a message for (first parts: one per message)."""
    return [f"+{s.destination_addr}" for s in smsc.taken if s.first_part]


def test_smpp_throttled_messages_end_sent_exactly_once(rt, clock, smsc):
    _, ids = post_messages(rt, 6, "smpp-throttled")
    _smpp(rt, smsc, ids)
    smsc.throttle_next(4)  # ESME_RTHROTTLED for the first four submits
    try:
        report = deliver(rt, ids)
        assert report.failed == 0
        assert statuses(rt, ids)["queued"] == 4  # waiting out the throttle, not failed
        recover(rt, clock, step=120)
        assert statuses(rt, ids) == Counter({"sent": 6})
    finally:
        rt.providers.close()  # unbind; the reader and watchdog threads end
    phones = [f"+3752912345{i:02d}" for i in range(6)]
    assert sum(s.status == 0x58 for s in smsc.submits) == 4
    assert counts("smpp-throttled", phones, _taken(smsc)) == {
        "in": 6, "sent": 6, "duplicated": 0, "lost": 0
    }  # fmt: skip


def test_smpp_submit_without_answer_is_unknown_never_resent(rt, clock, smsc):
    _, ids = post_messages(rt, 4, "smpp-no-answer")
    _smpp(rt, smsc, ids)
    smsc.hang_next(1)  # the first submit is taken and never answered
    try:
        deliver(rt, ids)
        assert statuses(rt, ids) == Counter({"unknown": 1, "sent": 3})
        recover(rt, clock)  # SMPP cannot be asked: a receipt or an operator decides
        assert statuses(rt, ids) == Counter({"unknown": 1, "sent": 3})
    finally:
        rt.providers.close()
    phones = [f"+3752912345{i:02d}" for i in range(4)]
    assert counts("smpp-no-answer", phones, _taken(smsc)) == {
        "in": 4, "sent": 4, "duplicated": 0, "lost": 0
    }  # fmt: skip
