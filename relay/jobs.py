"""RQ job entry points. They take ids only and find the process's runtime themselves.

Every job the relay itself enqueues names a function here (`relay.jobs.<name>`; connectors name
their own), so the job strings stay put when the code behind them moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relay.campaigns.runs import plan_run
from relay.contacts.imports import run_saved_import
from relay.delivery.delivery import deliver as _deliver
from relay.delivery.delivery import drain as _drain
from relay.delivery.outcomes import DeliveryReport
from relay.delivery.resolve import AskReport
from relay.delivery.resolve import ask_gateways as _ask_gateways
from relay.delivery.sweeper import SweepReport
from relay.delivery.sweeper import sweep as _sweep
from relay.growth.tick import GrowthReport
from relay.growth.tick import growth_tick as _growth_tick
from relay.people.codes import mask_spent_code
from relay.platforms.writeback import run_writeback
from relay.replies.replies import handle_inbound as _handle_inbound
from relay.replies.replies import run_reply_writeback
from relay.wiring import get_runtime


def deliver(message_ids: Sequence[str]) -> DeliveryReport:
    """Deliver whichever of these messages are still due (safe to run twice)."""
    return _deliver(get_runtime(), message_ids)


def drain() -> DeliveryReport:
    """Deliver the ids waiting on the pending list, a batch at a time (safe to run anywhere,
    any number of times)."""
    return _drain(get_runtime())


def ask_gateways(message_ids: Sequence[str]) -> AskReport:
    """Ask the gateways about these `unknown` messages where they can say (safe to run twice)."""
    return _ask_gateways(get_runtime(), message_ids)


def sweep() -> SweepReport:
    """Run one sweep (safe to run anywhere, any number of times)."""
    return _sweep(get_runtime())


def writeback(message_ids: Sequence[str]) -> int:
    """Report these messages' current statuses to their platforms."""
    return run_writeback(get_runtime(), message_ids)


def handle_inbound(inbound_ids: Sequence[int]) -> dict[int, str]:
    """Route and act on stored inbound messages (safe to run twice)."""
    return _handle_inbound(get_runtime(), inbound_ids)


def reply_writeback(target: str, payload: dict[str, Any]) -> str:
    """Forward one reply to the tenant's CRM or webhook (retried with backoff by RQ)."""
    return run_reply_writeback(get_runtime(), target, payload)


def plan_campaign(campaign_id: int) -> dict[str, Any] | None:
    """Plan (or finish planning) a campaign's current run."""
    return plan_run(get_runtime(), campaign_id)


def run_import(job_id: int, path: str, file_kind: str, options: dict[str, Any]) -> str:
    """Import a saved upload; safe to run twice (a finished job is skipped)."""
    return run_saved_import(get_runtime(), job_id, path, file_kind, options)


def mask_code(code_id: int) -> bool:
    """Mask a spent verification code in the text of the message that carried it."""
    rt = get_runtime()
    with rt.session() as session:
        done = mask_spent_code(session, code_id)
        session.commit()
    return done


def growth_tick() -> GrowthReport:
    """Persist queued clicks and credit new orders (the worker's loop runs it too)."""
    return _growth_tick(get_runtime())
