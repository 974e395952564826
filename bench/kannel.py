"""Scenario `kannel`: the relay through a real Kannel against a lean urllib3 client driving
Kannel directly, in one run (bench/kannel_throughput.py does the work).

    python bench/_scenario.py kannel OUT.json [--quick]

Kannel's bearerbox and smsbox must be installed (`relay bench` runs `.ci/install-kannel.sh`
first); without them the scenario is reported as skipped with that command, not failed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.9


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from bench._install import missing

    if reason := missing("kannel"):
        return {"status": "skipped", "reason": reason}
    messages = "500" if args.quick else "6000"
    cmd = [sys.executable, str(ROOT / "bench" / "kannel_throughput.py"), "--messages", messages,
           "--timeout", "40" if args.quick else "300"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return {"status": "failed", "reason": f"kannel_throughput.py exited "
                f"{done.returncode}: {tail}"[:600]}  # fmt: skip
    out = done.stdout

    def rate(label: str) -> float | None:
        m = re.search(rf"{re.escape(label)}\s+([\d,]+) msg/s", out)
        return float(m.group(1).replace(",", "")) if m else None

    urllib3_rate = rate("kannel direct, urllib3:")
    relay_rate = rate("relay via the kannel provider:")
    ratio = relay_rate / urllib3_rate if relay_rate and urllib3_rate else None
    return {
        "summary": [line for line in out.splitlines() if line.strip()],
        "urllib3_direct_msg_s": urllib3_rate,
        "relay_msg_s": relay_rate,
        "ratio": round(ratio, 2) if ratio else None,
        "target_ratio": TARGET_RATIO,
        "met": bool(ratio and ratio >= TARGET_RATIO),
        "settings": {"messages": int(messages), "command": " ".join(cmd[1:])},
    }
