"""A settable clock for the runtime: tests move time instead of sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """Callable returning the current (fake) time."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError(f"clock needs an aware datetime, got {now!r}")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        """Jump to `now`."""
        self.now = now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta given as keywords (minutes=5 …)."""
        self.now += timedelta(**delta)
        return self.now
