"""Write-back: how the relay reports to the platform without knowing which one it is.

Each connector implements `Writeback` (a timeline comment in Bitrix24, a note in amoCRM, an
order note in WooCommerce, a messageservice status update …) and registers it under its
`platform`; the relay calls `handle()` with a `WritebackEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.checks import check_choice, check_text

WRITEBACK_KINDS = ("status_changed", "reply_received", "survey_answered")
# The relay's message statuses (docs/architecture.md, 'API'), as they are reported back.
MESSAGE_STATUSES = (
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "undelivered",
    "failed",
    "expired",
    "blocked",
    "cancelled",
    "unknown",
)
SCORE_RANGE = range(0, 11)  # NPS: 0-10


@dataclass(frozen=True)
class WritebackEvent:
    """Something the platform should hear about.

    - "status_changed": a message's `status` (and `reason` for blocked/failed) changed.
    - "reply_received": the recipient answered with `text`.
    - "survey_answered": the recipient answered a survey with `score` (0-10) and maybe `text`.

    `context` is the originating event's `source`, `order`, `cart` and `data` in wire form,
    so the connector knows which deal, lead or order to write to.
    """

    kind: str
    tenant_id: str
    message_id: str | None  # None for a reply that matches no message we sent
    phone: str  # E.164
    status: str | None = None
    reason: str | None = None
    text: str | None = None
    score: int | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, WRITEBACK_KINDS)
        check_text("tenant_id", self.tenant_id, required=True, max_len=64)
        check_text("message_id", self.message_id, max_len=128)
        check_text("phone", self.phone, required=True, max_len=16)
        if not self.phone.startswith("+"):
            raise ValueError(f"phone must be E.164, got {self.phone!r}")
        check_choice("status", self.status, MESSAGE_STATUSES, optional=True)
        check_text("reason", self.reason, max_len=64)
        # Reply text is whatever the person typed; it may be blank, so only the type is checked.
        if self.text is not None and not isinstance(self.text, str):
            raise ValueError(f"text must be a str, got {self.text!r}")
        if self.score is not None and (
            isinstance(self.score, bool) or not isinstance(self.score, int)
        ):
            raise ValueError(f"score must be an int, got {self.score!r}")
        if not isinstance(self.context, dict):
            raise ValueError(f"context must be a dict, got {self.context!r}")
        if self.kind == "status_changed" and (self.status is None or self.message_id is None):
            raise ValueError(f"status_changed needs message_id and status, got {self.status!r}")
        if self.kind == "reply_received" and self.text is None:
            raise ValueError(f"reply_received needs text, got {self.text!r}")
        if self.kind == "survey_answered" and self.score not in SCORE_RANGE:
            raise ValueError(f"survey_answered needs a score 0-10, got {self.score!r}")


@runtime_checkable
class Writeback(Protocol):
    """A connector's way of reporting back to its platform."""

    platform: str

    def handle(self, event: WritebackEvent) -> None:
        """Report `event` to the platform. May raise; the relay retries on its queue."""
        ...


@runtime_checkable
class ClaimStore(Protocol):
    """Idempotent markers a connector claims before a platform call that must happen once
    (an order note per message and status), whatever the number of workers.

    `claim(key)` is atomic across workers and processes: exactly one caller gets True until the
    claim is completed (then nobody ever again) or released (then the next caller may claim
    it). A claim neither completed nor released within `lease_seconds` (its worker died
    mid-call) may be claimed again.
    """

    def claim(self, key: str, lease_seconds: float = 300.0) -> bool:
        """True when this caller now owns `key`."""
        ...

    def complete(self, key: str) -> None:
        """The call was made: `key` is never claimed again."""
        ...

    def release(self, key: str) -> None:
        """The call failed before it reached the platform: `key` may be claimed again."""
        ...


class MemoryClaimStore:
    """In-memory ClaimStore (one process): the stand-alone receiver and tests."""

    def __init__(self, clock: Any = None) -> None:
        import threading
        import time

        self._lock = threading.Lock()
        self._clock = clock or time.monotonic
        self._claims: dict[str, tuple[str, float]] = {}

    def claim(self, key: str, lease_seconds: float = 300.0) -> bool:
        """True when this caller now owns `key`."""
        with self._lock:
            state = self._claims.get(key)
            now = float(self._clock())
            if state is not None and (
                state[0] == "done" or (state[0] == "claimed" and now - state[1] < lease_seconds)
            ):
                return False
            self._claims[key] = ("claimed", now)
            return True

    def complete(self, key: str) -> None:
        """The call was made: `key` is never claimed again."""
        with self._lock:
            self._claims[key] = ("done", float(self._clock()))

    def release(self, key: str) -> None:
        """The call failed: `key` may be claimed again."""
        with self._lock:
            if self._claims.get(key, ("", 0.0))[0] == "claimed":
                del self._claims[key]
