"""The bench's SMSC: tests/support/smsc_server.py's FakeSmsc in a process of its own.

    python bench/_smsc.py STATUS_FILE [--system-id relay] [--password secret]

Prints the port it listens on (one line), then every 0.1 s writes STATUS_FILE (JSON:
`{"port", "submits", "first", "last"}` — submit_sm accepted so far and the wall-clock time of
the first and the last) until SIGTERM. A process of its own so the SMSC's CPU is not the
load generator's or a gateway's, and both gateways under test bind to the same one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.smsc_server import FakeSmsc  # noqa: E402


class CountingSmsc(FakeSmsc):
    """Keeps a count and timestamps instead of every Submit (a long run stays small)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count = 0
        self.first = self.last = 0.0

    def _handle(self, conn: Any, pdu: Any) -> bool:
        alive = super()._handle(conn, pdu)
        if pdu.command == "submit_sm":
            with self._cond:
                now = time.time()
                self.count += 1
                self.first = self.first or now
                self.last = now
                self.submits.clear()
        return alive


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("status")
    ap.add_argument("--system-id", default="relay")
    ap.add_argument("--password", default="secret")
    args = ap.parse_args()
    smsc = CountingSmsc(args.system_id, args.password, timeout=30.0).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(smsc.port, flush=True)
    status = Path(args.status)
    while not stop.is_set():
        tmp = status.with_suffix(".tmp")
        state = {"port": smsc.port, "submits": smsc.count, "first": smsc.first,
                 "last": smsc.last, "binds": smsc.binds}  # fmt: skip
        tmp.write_text(json.dumps(state))
        os.replace(tmp, status)
        stop.wait(0.1)
    smsc.stop()


if __name__ == "__main__":
    main()
