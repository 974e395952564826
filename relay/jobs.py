"""RQ job entry points. They take ids only and find the process's runtime themselves."""

from __future__ import annotations

from collections.abc import Sequence

from relay.delivery.delivery import DeliveryReport
from relay.delivery.delivery import deliver as _deliver
from relay.delivery.sweeper import SweepReport
from relay.delivery.sweeper import sweep as _sweep
from relay.runtime import get_runtime


def deliver(message_ids: Sequence[str]) -> DeliveryReport:
    """Deliver whichever of these messages are still due (safe to run twice)."""
    return _deliver(get_runtime(), message_ids)


def sweep() -> SweepReport:
    """Run one sweep (safe to run anywhere, any number of times)."""
    return _sweep(get_runtime())


def writeback(message_ids: Sequence[str]) -> int:
    """Report these messages' current statuses to their platforms."""
    from relay.platforms.writeback import run_writeback

    return run_writeback(get_runtime(), message_ids)


def handle_inbound(inbound_ids: Sequence[int]) -> dict[int, str]:
    """Route and act on stored inbound messages (safe to run twice)."""
    from relay.replies.replies import handle_inbound as run

    return run(get_runtime(), inbound_ids)


def reply_writeback(target: str, payload: dict) -> str:
    """Forward one reply to the tenant's CRM or webhook (retried with backoff by RQ)."""
    from relay.platforms.writeback import run_reply_writeback

    return run_reply_writeback(get_runtime(), target, payload)
