"""Scenario `cabinet`: server time of the cabinet's heaviest pages on a seeded store
(bench/cabinet_seed.py fills it, bench/cabinet_pages.py times the pages).

    python bench/_scenario.py cabinet OUT.json [--quick]

`--quick` seeds 10,000 messages (the target is set for 1,000,000: a full run). PostgreSQL
only (the seed writes with COPY): on SQLite the scenario is skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("RELAY_BENCH_DATABASE_URL", "sqlite://"))
    if base.get_backend_name() != "postgresql":
        return {"status": "skipped", "reason": "the seed needs PostgreSQL (COPY)"}
    url = base.set(database=f"{base.database}_cabinet").render_as_string(hide_password=False)
    redis_url = os.environ.get("RELAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    messages = 10_000 if args.quick else 1_000_000
    requests = 3 if args.quick else 15
    seed = subprocess.run(
        [sys.executable, "bench/cabinet_seed.py", "--messages", str(messages),
         "--database-url", url], cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # one client asks for page after page: the per-address limits are for visitors, not this
    env = dict(os.environ, RELAY_RATE_LIMIT_PER_IP="100000/second",
               RELAY_RATE_LIMIT_PER_KEY="100000/second")  # fmt: skip
    pages = subprocess.run(
        [sys.executable, "bench/cabinet_pages.py", "--requests", str(requests),
         "--database-url", url, "--redis-url", redis_url], cwd=ROOT, capture_output=True,
        text=True, env=env,
    )  # fmt: skip
    medians = {
        m.group(1).strip(): float(m.group(2))
        for m in re.finditer(r"^(.+?)\s+median\s+([\d.]+) ms", pages.stdout, re.M)
    }
    if not medians or (pages.returncode and "Traceback" in pages.stderr):
        return {"status": "failed", "reason": (pages.stderr or pages.stdout)[-400:],
                "median_ms": medians}  # fmt: skip
    return {
        "summary": [
            ln.strip()
            for ln in (seed + pages.stdout).splitlines()
            if ln.startswith(("seeded", "database")) or " median " in ln
        ],
        "median_ms": medians,
        "target_ms": 300,
        "met": all(v < 300 for v in medians.values()),
        "settings": {"messages": messages, "requests_per_page": requests},
    }
