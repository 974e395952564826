"""Process facts from /proc for the bench: CPU seconds of process trees, peak RSS (VmHWM)."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from `state` on


def descendants(pid: int) -> list[int]:
    """Live descendants of pid (children, grandchildren …)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == current]
        found += kids
        frontier += kids
    return found


def tree_cpu_seconds(roots: list[int]) -> float:
    """User + system CPU of each root (with its reaped children) and its live descendants."""
    total = 0
    for root in roots:
        for pid in [root, *descendants(root)]:
            fields = _stat(pid)
            if fields:
                # utime, stime, cutime, cstime: fields 14-17 of stat, 11-14 after `state`
                total += sum(int(x) for x in fields[11:15])
    return total / TICK


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
