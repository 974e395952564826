"""SMPP windowing: several submit_sm outstanding per bind, several binds, answers kept in order.

The stand-in answers each submit_sm after a delay from a thread of its own, so a window is
visible as submits outstanding at once (docs/gateways.md, `window` and `binds`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from relay.providers.base import OutboundMessage, ProviderError, SendResult
from relay.providers.smpp import SmppProvider
from tests.support.smsc_server import FakeSmsc

DELAY = 0.05


class SlowSmsc(FakeSmsc):
    """Answers submit_sm after DELAY, without holding up the next PDU on the link."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outstanding = self.max_outstanding = 0
        self._count = threading.Lock()

    def _handle(self, conn: Any, pdu: Any) -> bool:
        if pdu.command != "submit_sm":
            return super()._handle(conn, pdu)
        with self._count:
            self.outstanding += 1
            self.max_outstanding = max(self.max_outstanding, self.outstanding)

        def later() -> None:
            time.sleep(DELAY)
            with self._count:
                self.outstanding -= 1
            super(SlowSmsc, self)._handle(conn, pdu)

        threading.Thread(target=later, daemon=True).start()
        return True


@pytest.fixture()
def smsc() -> Iterator[SlowSmsc]:
    with SlowSmsc(system_id="relay", password="secret", timeout=3.0) as server:
        yield server


def provider(smsc: FakeSmsc, **config: Any) -> SmppProvider:
    cfg = {
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "relay",
        "password": "secret",
        "source_addr": "SHOP",
        "timeout": 2.0,
        **config,
    }
    return SmppProvider("smpp-window", cfg)


def batch(n: int) -> list[OutboundMessage]:
    return [
        OutboundMessage(message_id=f"m-{i}", phone=f"+7916123{i:04d}", text=f"hello {i}")
        for i in range(n)
    ]


def test_window_keeps_several_submits_outstanding_and_answers_in_order(smsc: SlowSmsc) -> None:
    gw = provider(smsc, window=5)
    try:
        assert gw.in_flight == 5
        started = time.monotonic()
        results = gw.send_many(batch(20))
        took = time.monotonic() - started
    finally:
        gw.close()
    assert smsc.max_outstanding == 5
    assert took < 20 * DELAY  # one at a time would take at least this long
    assert all(isinstance(r, SendResult) for r in results)
    by_id = {s.message_id: s.destination_addr for s in smsc.submits}
    # every message got the SMSC id of its own submit_sm, in input order
    assert [by_id[r.provider_message_id] for r in results if isinstance(r, SendResult)] == [
        f"7916123{i:04d}" for i in range(20)
    ]


def test_default_is_one_submit_at_a_time(smsc: SlowSmsc) -> None:
    gw = provider(smsc)
    try:
        assert gw.in_flight == 1
        results = gw.send_many(batch(4))
    finally:
        gw.close()
    assert smsc.max_outstanding == 1
    assert len(smsc.submits) == 4 and all(isinstance(r, SendResult) for r in results)


def test_several_binds_share_the_window(smsc: SlowSmsc) -> None:
    gw = provider(smsc, window=3, binds=2)
    try:
        assert gw.in_flight == 6
        results = gw.send_many(batch(12))
    finally:
        gw.close()
    assert smsc.binds == 2
    assert smsc.max_outstanding == 6
    assert len(smsc.submits) == 12 and all(isinstance(r, SendResult) for r in results)


def test_throttled_message_in_a_window_is_its_own_error(smsc: SlowSmsc) -> None:
    smsc.throttle_next(1, after=2)
    gw = provider(smsc, window=4)
    try:
        results = gw.send_many(batch(8))
    finally:
        gw.close()
    errors = [r for r in results if isinstance(r, ProviderError)]
    assert [e.kind for e in errors] == ["throttled"]
    assert sum(isinstance(r, SendResult) for r in results) == 7


@pytest.mark.parametrize("change", [{"window": 0}, {"window": 101}, {"binds": 0}, {"binds": 11}])
def test_window_and_binds_are_bounded(change: dict[str, Any]) -> None:
    from relay.providers.base import ProviderConfigError

    cfg = {"host": "h", "system_id": "relay", "password": "secret", **change}
    with pytest.raises(ProviderConfigError):
        SmppProvider.validate_config(cfg)
