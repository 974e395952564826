"""Pacing calls to a platform's API, shared by every process that calls the same account.

A platform meters each account (portal) as one bucket, however many relay processes and hosts
call it. A `Pacer` is that bucket as the host keeps it: the relay gives connectors one in Redis
(`relay/adapters/pacing.py`), so N workers on M hosts together keep to the platform's rate;
a connector run on its own keeps a bucket per process.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Pacer(Protocol):
    """Token buckets by key: `rate` per second, up to `burst` saved up."""

    def reserve(self, key: str, rate: float, burst: float) -> float:
        """Take a token (going into debt if none is left); seconds to wait before using it."""
        ...

    def hold(self, key: str, seconds: float, rate: float, burst: float) -> None:
        """Forget the saved-up tokens and let nobody call for `seconds` more (the platform said
        the account called too fast)."""
        ...
