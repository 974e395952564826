"""`wrk` for the bench: one run of it, its figures parsed from a line its Lua `done` writes.

Every HTTP scenario (intake, event_dispatch, redirect, kannel_throughput) drives its server
through `run()`: the caller gives the request part of a Lua script (or none, for a plain GET
of the URL), this module appends the `done` hook and reads back requests, errors and latency
percentiles, so the figures of all of them are taken the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

# appended to every script: wrk's own summary on one line that run() parses
DONE_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("STATS %d %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""

STATS = re.compile(r"STATS (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)")
RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


def installed() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str, seconds: float, connections: int, lua: str = "", threads: int = 2
) -> dict[str, Any]:
    """One wrk run: requests/s, latency percentiles (ms), socket errors, non-2xx answers,
    and the 1-minute load average read just before it (the machine may be shared)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua + "\n" + DONE_LUA)
        script = Path(fh.name)
    args = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}",
            f"-d{max(1, round(seconds))}s", "-s", str(script), url]  # fmt: skip
    load = round(os.getloadavg()[0], 2)
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        script.unlink(missing_ok=True)
    rate, stats = RATE.search(done.stdout), STATS.search(done.stdout)
    if not rate or not stats:
        raise RuntimeError(f"wrk failed: {(done.stdout + done.stderr)[-500:]}")
    requests, socket_errors, non_2xx, p50, p90, p99, most = stats.groups()
    return {
        "rate": round(float(rate.group(1)), 1),
        "requests": int(requests),
        "socket_errors": int(socket_errors),
        "non_2xx": int(non_2xx),
        "errors": int(socket_errors) + int(non_2xx),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "max_ms": float(most),
        "load_1m": load,
    }
