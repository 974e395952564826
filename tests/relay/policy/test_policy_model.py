"""The dataclasses check themselves and say what they got."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest

from relay.policy import (
    ConsentRecord,
    Decision,
    PolicyMessage,
    Reason,
    RecipientFacts,
    StopEntry,
    TenantPolicy,
)
from tests.relay.policy.policy_builders import utc

NAIVE = datetime(2026, 1, 15, 12, 0)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: StopEntry("sms", "keyword", NAIVE), "timezone-aware"),
        (lambda: StopEntry("telegram", "keyword", utc(2026, 1, 1)), "'telegram'"),
        (lambda: StopEntry(None, "robot", utc(2026, 1, 1)), "'robot'"),
        (lambda: ConsentRecord("yes", None, "x", utc(2026, 1, 1)), "'yes'"),  # type: ignore[arg-type]
        (lambda: ConsentRecord(True, None, "", utc(2026, 1, 1)), "non-empty"),
        (lambda: TenantPolicy(timezone_mode="local"), "'local'"),
        (lambda: TenantPolicy(store_timezone="Moscow"), "'Moscow'"),
        (lambda: TenantPolicy(frequency_cap=-1), "-1"),
        (lambda: TenantPolicy(frequency_window=timedelta(0)), "timedelta(0)"),
        (lambda: TenantPolicy(quiet_start="23:00"), "'23:00'"),  # type: ignore[arg-type]
        (lambda: TenantPolicy(sender_names=frozenset({("fax", "X")})), "('fax', 'X')"),
        (lambda: PolicyMessage("+79161234567", "promo", "sms"), "'promo'"),
        (lambda: PolicyMessage("+79161234567", "marketing", "email"), "'email'"),
        (lambda: RecipientFacts(recent_marketing=(NAIVE,)), "timezone-aware"),
        (lambda: RecipientFacts(consents=("granted",)), "'granted'"),  # type: ignore[arg-type]
        (lambda: Reason("", "x"), "non-empty"),
        (lambda: Decision("maybe", (), None, (), "store", ""), "'maybe'"),
        (lambda: Decision("send", (), None, (), "guess", ""), "'guess'"),
        (
            lambda: Decision("defer", (Reason("quiet_hours"),), NAIVE, (), "store", ""),
            "timezone-aware",
        ),
    ],
)
def test_invalid_values_raise_with_the_value(build: Callable[[], object], fragment: str) -> None:
    with pytest.raises(ValueError) as error:
        build()
    assert fragment in str(error.value)


def test_lists_are_frozen_into_tuples() -> None:
    entry = StopEntry(None, "admin", utc(2026, 1, 1))
    facts = RecipientFacts(stop_entries=[entry], recent_marketing=[utc(2026, 1, 2)])
    assert facts.stop_entries == (entry,)
    assert facts.recent_marketing == (utc(2026, 1, 2),)
    policy = TenantPolicy(sender_names=[("sms", "SHOP")])  # type: ignore[arg-type]
    assert policy.sender_names == frozenset({("sms", "SHOP")})


def test_defaults_match_the_design() -> None:
    policy = TenantPolicy()
    assert (policy.quiet_start, policy.quiet_end) == (time(23, 0), time(7, 0))
    assert (policy.frequency_cap, policy.frequency_window) == (2, timedelta(days=7))
    assert (policy.timezone_mode, policy.store_timezone) == ("strict", "Europe/Moscow")
    assert policy.transactional_quiet_hours is True
    assert Reason("stop_list", "x").to_dict() == {"code": "stop_list", "detail": "x"}
