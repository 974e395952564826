"""Throughput of ``relay.policy.decide`` on one core, with baselines from the same run.

Run: ``python bench/policy_decide.py [--seconds 3] [--numbers 2000]``

Facts are built up front (as storage would hand them over): Russian mobiles with 16
candidate zones, Russian landlines, Belarusian numbers, a few stop entries, 3–5 consent
records and 1–2 recent sends each; marketing and transactional, SMS and Viber. ``now``
walks through a whole day (a few seconds per decision) so SEND and DEFER paths both run
and the per-minute caches do not make every call a hit.
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relay.policy import (  # noqa: E402  (path set up above, so it runs from a checkout)
    ConsentRecord,
    PolicyMessage,
    RecipientFacts,
    StopEntry,
    TenantPolicy,
    decide,
    phone_info,
)

START = datetime(2026, 1, 15, tzinfo=UTC)
STEP = timedelta(seconds=4.3)  # ~20,000 decisions span a day


def make_phone(rng: random.Random) -> str:
    """A random number of the mix the relay sees."""
    kind = rng.random()
    if kind < 0.65:  # Russian mobile: 16 candidate zones
        return f"+79{rng.choice(['16', '26', '03', '85', '52'])}{rng.randrange(10**7):07d}"
    if kind < 0.80:  # Russian landline: one zone (Moscow, Vladivostok, Kaliningrad, Yekaterinburg)
        area = rng.choice(["495", "423", "4012", "343"])
        return f"+7{area}{rng.randrange(10 ** (10 - len(area))):0{10 - len(area)}d}"
    operator = rng.choice(["29", "33", "44", "25", "17"])  # Belarus mobiles and Minsk
    return f"+375{operator}{rng.randrange(10**7):07d}"


def make_facts(rng: random.Random) -> RecipientFacts:
    """Facts as storage would load them for one recipient."""
    consents = []
    when = START - timedelta(days=300)
    for index in range(rng.randint(3, 5)):
        when += timedelta(days=rng.randint(1, 60))
        consents.append(
            ConsentRecord(
                granted=index % 2 == 0 or rng.random() < 0.7,
                channel=rng.choice([None, "sms", "viber"]),
                source=rng.choice(["checkout_checkbox", "registration", "crm_field"]),
                recorded_at=when,
            )
        )
    recent = tuple(START - timedelta(days=rng.uniform(0.5, 10)) for _ in range(rng.randint(1, 2)))
    stops = ()
    if rng.random() < 0.03:
        stops = (StopEntry(rng.choice([None, "sms"]), "keyword", START - timedelta(days=3)),)
    region = rng.choice([None] * 8 + ["RU-MOW", "RU-PRI"])
    return RecipientFacts(
        stop_entries=stops, consents=tuple(consents), recent_marketing=recent, region=region
    )


def make_workload(count: int, seed: int = 7) -> list[tuple[PolicyMessage, RecipientFacts]]:
    """``count`` (message, facts) pairs with distinct numbers."""
    rng = random.Random(seed)
    work = []
    for _ in range(count):
        channel = rng.choice(["sms", "sms", "viber"])
        message = PolicyMessage(
            phone=make_phone(rng),
            category=rng.choice(["transactional", "marketing"]),
            channel=channel,
            text=rng.choice(
                ["Заказ 727 принят", "Скидка 10% на всё! Отписаться: СТОП", "Вы забыли корзину"]
            ),
            sender="SHOP" if channel == "sms" else "Магазин",
        )
        work.append((message, make_facts(rng)))
    return work


def run_for(seconds: float, step: Callable[[int], object]) -> tuple[int, float]:
    """Call ``step(i)`` in batches until ``seconds`` have passed; (calls, elapsed)."""
    calls, began = 0, clock.perf_counter()
    while True:
        for _ in range(1000):
            step(calls)
            calls += 1
        elapsed = clock.perf_counter() - began
        if elapsed >= seconds:
            return calls, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--numbers", type=int, default=2000)
    args = parser.parse_args()

    policy = TenantPolicy(
        optout_footer="Отписаться: СТОП на 1234",
        sender_names=frozenset({("sms", "SHOP"), ("viber", "Магазин")}),
    )
    work = make_workload(args.numbers)
    size = len(work)
    actions: Counter[str] = Counter()

    # Cold pass: every number parsed for the first time (what a new bulk campaign costs).
    phone_info.cache_clear()
    began = clock.perf_counter()
    for index, (message, facts) in enumerate(work):
        actions[decide(message, facts, policy, START + STEP * index).action] += 1
    cold = size / (clock.perf_counter() - began)

    def one_decision(i: int) -> object:
        message, facts = work[i % size]
        return decide(message, facts, policy, START + STEP * i)

    calls, elapsed = run_for(args.seconds, one_decision)
    warm = calls / elapsed
    for i in range(size * 3):
        actions[one_decision(i).action] += 1  # type: ignore[attr-defined]

    phones = [message.phone for message, _ in work]

    def parse_only(i: int) -> object:
        return phonenumbers.parse(phones[i % size], None)

    parse_calls, parse_elapsed = run_for(min(args.seconds, 2.0), parse_only)
    parse_rate = parse_calls / parse_elapsed

    def build_only(i: int) -> object:
        message, _ = work[i % size]
        return PolicyMessage(
            message.phone, message.category, message.channel, message.text, message.sender
        )

    build_calls, build_elapsed = run_for(min(args.seconds, 2.0), build_only)
    build_rate = build_calls / build_elapsed

    total = sum(actions.values())
    mix = ", ".join(f"{name} {100 * count / total:.0f}%" for name, count in sorted(actions.items()))
    print(f"numbers: {size} distinct; decisions mix: {mix}")
    print(f"decide() warm cache : {warm:10,.0f} decisions/s  ({1e6 / warm:.1f} µs each)")
    print(f"decide() cold cache : {cold:10,.0f} decisions/s  (first sight of every number)")
    print(
        f"baseline parse only : {parse_rate:10,.0f} phonenumbers.parse/s "
        f"-> decide/parse ratio {warm / parse_rate:.2f}"
    )
    print(
        f"baseline dataclass  : {build_rate:10,.0f} PolicyMessage()/s "
        f"-> decide/construct ratio {warm / build_rate:.3f}"
    )
    print(f"target 20,000/s     : {'met' if warm >= 20_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
