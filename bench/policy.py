"""Scenario `policy`: `decide()` against `phonenumbers.parse` alone, on one core, one run.

    python bench/_scenario.py policy OUT.json [--quick] [--seconds 3]

The workload and the timing loop are bench/policy_decide.py's (the same mix of Russian
mobiles with 16 candidate zones, landlines and Belarusian numbers; `now` walking a day).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 1.5


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--numbers", type=int, default=2000)
    args = ap.parse_args(argv)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    import phonenumbers

    from bench.policy_decide import START, STEP, make_workload, run_for
    from relay.policy import TenantPolicy, decide

    policy = TenantPolicy(
        optout_footer="Отписаться: СТОП на 1234",
        sender_names=frozenset({("sms", "SHOP"), ("viber", "Магазин")}),
    )
    work = make_workload(args.numbers)
    size = len(work)
    for i in range(size):  # warm the per-number caches, as a running worker has them
        message, facts = work[i]
        decide(message, facts, policy, START + STEP * i)

    def one_decision(i: int) -> object:
        message, facts = work[i % size]
        return decide(message, facts, policy, START + STEP * i)

    phones = [message.phone for message, _ in work]

    def parse_only(i: int) -> object:
        return phonenumbers.parse(phones[i % size], None)

    # interleaved slices: on a shared machine both sides then see the same neighbours' load
    calls = parse_calls = 0
    elapsed = parse_elapsed = 0.0
    for _ in range(max(1, int(seconds / 0.25))):
        c, e = run_for(0.25, one_decision)
        calls, elapsed = calls + c, elapsed + e
        c, e = run_for(0.25, parse_only)
        parse_calls, parse_elapsed = parse_calls + c, parse_elapsed + e
    warm, parse = calls / elapsed, parse_calls / parse_elapsed
    ratio = warm / parse
    return {
        "summary": [
            f"decide() warm: {warm:,.0f}/s; phonenumbers.parse alone: {parse:,.0f}/s; "
            f"ratio {ratio:.2f} (target ≥ {TARGET_RATIO}: "
            f"{'met' if ratio >= TARGET_RATIO else 'not met'})"
        ],
        "decide_per_s": round(warm),
        "parse_per_s": round(parse),
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
        "settings": {"seconds": seconds, "numbers": size, "cores": 1},
    }
