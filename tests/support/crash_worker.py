"""A worker whose gateway kills the worker process mid-send (run as a subprocess)."""

from __future__ import annotations

import os
import signal
import sys

from relay.providers import PROVIDER_TYPES
from relay.providers.base import OutboundMessage, Provider, SendResult


class CrashProvider(Provider):
    """Writes the message id to $CRASH_MARKER, then SIGKILLs its own process."""

    type = "crash"

    def _send(self, msg: OutboundMessage) -> SendResult:
        with open(os.environ["CRASH_MARKER"], "a") as fh:
            fh.write(msg.message_id + "\n")
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def register() -> None:
    """Make the `crash` provider type known in this process."""
    PROVIDER_TYPES[CrashProvider.type] = CrashProvider


if __name__ == "__main__":
    register()
    from relay.cli import main

    sys.argv = ["relay", "worker", "--burst", "--no-sweeper", "--no-scheduler"]
    main()
