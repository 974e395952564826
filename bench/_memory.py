"""Peak memory of this process, measured the way that survives how it was started."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    On Linux, `ru_maxrss` is kept across fork + exec, so a child started from a large parent
    (a pytest run that has grown to 400 MB) would report the parent's size. `VmHWM` in
    /proc/self/status belongs to the address space exec created, so it is the child's own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    # elsewhere: ru_maxrss (KiB on Linux, bytes on macOS; this branch is not Linux)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024, 1)
