"""The built-in sandbox gateway: sends nothing, records everything, simulates receipts.

Like a gateway's research mode, the last two digits of the number choose the outcome, so a
whole flow can be tried without a gateway account.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from relay.providers.base import (
    PERMANENT,
    TRANSIENT,
    OutboundMessage,
    Provider,
    ProviderError,
    SendResult,
)

SANDBOX_KEY = "relay:sandbox:sent"
# number ending → simulated outcome; anything else is delivered
OUTCOMES: dict[str, str] = {
    "00": "undelivered",
    "01": "rejected",  # permanent error at send
    "02": "unavailable",  # transient error at send
    "03": "no_receipt",  # accepted, no receipt ever comes
}


class SandboxProvider(Provider):
    """Records each send in Redis (`relay:sandbox:sent`) and answers by number pattern."""

    type: ClassVar[str] = "sandbox"
    channels: ClassVar[frozenset[str]] = frozenset({"sms", "viber"})
    # one in-process call for the whole window: it is marked "attempt started" at once
    in_flight = 10_000

    def _outcome(self, msg: OutboundMessage) -> SendResult:
        outcome = OUTCOMES.get(msg.phone[-2:], "delivered")
        if outcome == "rejected":
            raise ProviderError(PERMANENT, "rejected", "sandbox rejects numbers ending in 01")
        if outcome == "unavailable":
            raise ProviderError(TRANSIENT, "unavailable", "sandbox fails numbers ending in 02")
        if msg.channel == "viber" and msg.phone[-2:] == "04":
            outcome = "undelivered"  # "not a Viber user"
        status = {"delivered": "delivered", "undelivered": "undelivered"}.get(outcome)
        return SendResult(
            provider_message_id="sbx-" + secrets.token_hex(6),
            immediate_status=status,
        )

    def _send(self, msg: OutboundMessage) -> SendResult:
        result = self._outcome(msg)
        self._record([(msg, result)])
        return result

    def send_many(self, msgs: Sequence[OutboundMessage]) -> list[SendResult | ProviderError]:
        """One pipelined Redis write for the whole batch instead of one per message."""
        out: list[SendResult | ProviderError] = []
        accepted: list[tuple[OutboundMessage, SendResult]] = []
        for msg in msgs:
            try:
                result = self._outcome(msg)
            except ProviderError as exc:
                out.append(exc)
                continue
            accepted.append((msg, result))
            out.append(result)
        self._record(accepted)
        return out

    def _record(self, sent: Sequence[tuple[OutboundMessage, SendResult]]) -> None:
        redis = self.context.get("redis")
        if redis is None or not sent:
            return
        now = time.time()
        rows: list[Any] = [
            json.dumps(
                {
                    "message_id": m.message_id,
                    "phone": m.phone,
                    "text": m.text,
                    "channel": m.channel,
                    "sender": m.sender,
                    "provider": self.name,
                    "provider_message_id": r.provider_message_id,
                    "at": now,
                },
                ensure_ascii=False,
            )
            for m, r in sent
        ]
        redis.rpush(SANDBOX_KEY, *rows)
