"""Scenario `policy`: `decide()` against `phonenumbers.parse` alone, on one core, one run.

    python bench/_scenario.py policy OUT.json [--quick] [--seconds 3] [--cold-numbers 20000]

The workload and the timing loop are bench/policy_decide.py's (the same mix of Russian
mobiles with 16 candidate zones, landlines and Belarusian numbers; `now` walking a day).

Two figures: warm (the target's), where every number has been decided before, as in a
worker re-checking what intake decided; and cold, where each decision is the first sight of
its number (a new bulk campaign): the policy's caches are cleared first, except the loaders
of the morphology dictionary and the region table that any process pays once, and every
number is new. Both are interleaved with `phonenumbers.parse` slices, so each ratio compares
rates measured under the same load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time as clock
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 1.5


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--numbers", type=int, default=2000)
    ap.add_argument("--cold-numbers", type=int, default=20000)
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

    cold, cold_parse, cold_size = _cold(policy, phones, args.cold_numbers, parse_only)
    cold_ratio = cold / cold_parse
    return {
        "summary": [
            f"decide() warm: {warm:,.0f}/s; phonenumbers.parse alone: {parse:,.0f}/s; "
            f"ratio {ratio:.2f} (target ≥ {TARGET_RATIO}: "
            f"{'met' if ratio >= TARGET_RATIO else 'not met'})",
            f"decide() cold (each of {cold_size:,} numbers seen once, caches cleared first): "
            f"{cold:,.0f}/s; phonenumbers.parse alone: {cold_parse:,.0f}/s; "
            f"ratio {cold_ratio:.2f}",
        ],
        "decide_per_s": round(warm),
        "parse_per_s": round(parse),
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
        "cold": {
            "decide_per_s": round(cold),
            "parse_per_s": round(cold_parse),
            "ratio": round(cold_ratio, 2),
            "numbers": cold_size,
        },
        "settings": {"seconds": seconds, "numbers": size, "cores": 1},
    }


# Loaded once per process whatever the traffic: clearing them would time a worker's start.
_PROCESS_LOADERS = frozenset({"relay.policy.optout._morph", "relay.policy.regions._tables"})


def _clear_policy_caches() -> int:
    """Clear every functools cache of the relay.policy modules but the process loaders."""
    cleared = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("relay.policy.") or module is None:
            continue
        for attr, value in vars(module).items():
            owner = getattr(value, "__module__", None)
            if owner == name and hasattr(value, "cache_clear"):
                if f"{name}.{attr}" not in _PROCESS_LOADERS:
                    value.cache_clear()
                    cleared += 1
    return cleared


def _cold(
    policy: Any, seen: list[str], count: int, parse_only: Callable[[int], object]
) -> tuple[float, float, int]:
    """(decide/s, parse/s, numbers) deciding ``count`` numbers never seen before, once each."""
    from bench.policy_decide import START, STEP, make_workload, run_for
    from relay.policy import decide

    known = set(seen)
    work = []
    for message, facts in make_workload(count + count // 10 + 100, seed=11):
        if message.phone not in known:
            known.add(message.phone)
            work.append((message, facts))
    work = work[:count]
    _clear_policy_caches()
    calls = parse_calls = 0
    elapsed = parse_elapsed = 0.0
    for begin in range(0, len(work), 1000):
        chunk = work[begin : begin + 1000]
        began = clock.perf_counter()
        for offset, (message, facts) in enumerate(chunk):
            decide(message, facts, policy, START + STEP * (begin + offset))
        took = clock.perf_counter() - began
        calls, elapsed = calls + len(chunk), elapsed + took
        c, e = run_for(took, parse_only)
        parse_calls, parse_elapsed = parse_calls + c, parse_elapsed + e
    return calls / elapsed, parse_calls / parse_elapsed, len(work)
