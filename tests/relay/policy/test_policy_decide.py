"""decide(): the policy scenarios, end to end through the pure core.

The scenarios are those of docs/architecture.md, 'Policy'.
"""

from __future__ import annotations

from datetime import datetime, time

import pytest

from relay.policy import (
    BLOCK,
    DEFER,
    SEND,
    ConsentRecord,
    Decision,
    Reason,
    RecipientFacts,
    TenantPolicy,
    decide,
    next_send_time,
)
from tests.relay.policy.policy_builders import DEFAULT_POLICY, NO_FACTS, message, utc

RU_MOBILE = "+79161234567"


def _consent(granted: bool, channel: str | None, day: int) -> ConsentRecord:
    return ConsentRecord(
        granted=granted,
        channel=channel,
        source="checkout_checkbox",
        recorded_at=utc(2026, 1, day, 12, 0),
    )


KALININGRAD = "+74012123456"


def test_russian_mobile_at_night_waits_for_every_candidate_zone() -> None:
    decision = decide(message(RU_MOBILE), NO_FACTS, DEFAULT_POLICY, utc(2026, 1, 15, 21, 30))
    assert decision.action == DEFER
    assert decision.primary_reason == "quiet_hours"
    assert decision.not_before == utc(2026, 1, 16, 5, 0)
    assert decision.timezone_source == "candidates"
    assert len(decision.timezones) == 16
    assert decision.reasons[0].detail.startswith("quiet hours 23:00-07:00 in Asia/")


def test_russian_mobile_in_the_common_window_is_sent() -> None:
    decision = decide(message(RU_MOBILE), NO_FACTS, DEFAULT_POLICY, utc(2026, 1, 15, 6, 0))
    assert decision.action == SEND
    assert decision.reasons == ()
    assert decision.not_before is None
    assert decision.primary_reason is None


def test_kaliningrad_landline_in_summer_is_still_utc_plus_two() -> None:
    # 04:30 UTC in July: 06:30 in Kaliningrad (quiet), 07:30 in Bucharest (would be allowed).
    now = utc(2026, 7, 15, 4, 30)
    decision = decide(message(KALININGRAD), NO_FACTS, DEFAULT_POLICY, now)
    assert decision.action == DEFER
    assert decision.timezones == ("Europe/Kaliningrad",)
    assert decision.not_before == utc(2026, 7, 15, 5, 0)
    bucharest = decide(
        message(KALININGRAD),
        RecipientFacts(explicit_timezone="Europe/Bucharest"),
        DEFAULT_POLICY,
        now,
    )
    assert bucharest.action == SEND


@pytest.mark.parametrize("phone", ["+375171234567", "+375291234567"])
def test_minsk_numbers_switch_at_twenty_three_local(phone: str) -> None:
    # Minsk is UTC+3: 22:59 local = 19:59 UTC, 23:00 local = 20:00 UTC.
    assert decide(message(phone), NO_FACTS, DEFAULT_POLICY, utc(2026, 1, 15, 19, 59)).action == SEND
    deferred = decide(message(phone), NO_FACTS, DEFAULT_POLICY, utc(2026, 1, 15, 20, 0))
    assert deferred.action == DEFER
    assert deferred.not_before == utc(2026, 1, 16, 4, 0)  # 07:00 in Minsk
    assert deferred.to_dict() == {
        "decision": "defer",
        "reasons": [{"code": "quiet_hours", "detail": "quiet hours 23:00-07:00 in Europe/Minsk"}],
        "not_before": "2026-01-16T04:00:00+00:00",
        "timezones": ["Europe/Minsk"],
        "timezone_source": "phonenumbers",
    }


def test_transactional_quiet_hours_follow_the_tenant_and_urgency() -> None:
    night = utc(2026, 1, 15, 21, 0)  # 00:00 in Moscow
    moscow = RecipientFacts(region="RU-MOW")
    assert decide(message(), moscow, DEFAULT_POLICY, night).action == DEFER
    assert decide(message(urgent=True), moscow, DEFAULT_POLICY, night).action == SEND
    relaxed = TenantPolicy(transactional_quiet_hours=False)
    assert decide(message(), moscow, relaxed, night).action == SEND
    # Urgency is for transactional messages only: marketing always waits.
    marketing = message(category="marketing", text="Скидка! СТОП на 1234", urgent=True)
    granted = RecipientFacts(region="RU-MOW", consents=(_consent(True, None, 1),))
    assert decide(marketing, granted, relaxed, night).action == DEFER


def test_custom_window_and_no_window() -> None:
    moscow = RecipientFacts(region="RU-MOW")
    evening = utc(2026, 1, 15, 19, 30)  # 22:30 in Moscow
    late = TenantPolicy(quiet_start=time(22, 0), quiet_end=time(9, 0))
    decision = decide(message(), moscow, late, evening)
    assert (decision.action, decision.not_before) == (DEFER, utc(2026, 1, 16, 6, 0))
    never = TenantPolicy(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert decide(message(), moscow, never, evening).action == SEND


def test_store_mode_uses_the_store_zone_for_a_mobile() -> None:
    store = TenantPolicy(timezone_mode="store", store_timezone="Europe/Moscow")
    # 21:30 UTC = 00:30 Moscow: deferred to 07:00 Moscow = 04:00 UTC, not 05:00.
    decision = decide(message(RU_MOBILE), NO_FACTS, store, utc(2026, 1, 15, 21, 30))
    assert (decision.not_before, decision.timezones, decision.timezone_source) == (
        utc(2026, 1, 16, 4, 0),
        ("Europe/Moscow",),
        "store",
    )


def test_no_common_minute_falls_back_to_the_store_zone() -> None:
    wide = TenantPolicy(quiet_start=time(20, 0), quiet_end=time(10, 0))
    decision = decide(message(RU_MOBILE), NO_FACTS, wide, utc(2026, 1, 15, 18, 0))
    assert decision.action == DEFER
    assert [r.code for r in decision.reasons] == ["quiet_hours", "timezone_fallback"]
    assert decision.not_before == utc(2026, 1, 16, 7, 0)  # 10:00 in Moscow
    assert (decision.timezones, decision.timezone_source) == (("Europe/Moscow",), "store")
    # 15:00 in Moscow is allowed there: sent, with the fallback noted but not "deciding".
    midday = decide(message(RU_MOBILE), NO_FACTS, wide, utc(2026, 1, 15, 12, 0))
    assert midday.action == SEND
    assert [r.code for r in midday.reasons] == ["timezone_fallback"]
    assert midday.primary_reason is None


def test_tenant_disabled_outranks_everything() -> None:
    disabled = TenantPolicy(disabled=True)
    decision = decide(message("not a number"), NO_FACTS, disabled, utc(2026, 1, 15, 6, 0))
    assert (decision.action, decision.primary_reason) == (BLOCK, "tenant_disabled")


@pytest.mark.parametrize("phone", ["+7916", "89161234567", "not a number", ""])
def test_unparseable_numbers_are_blocked(phone: str) -> None:
    decision = decide(message(phone), NO_FACTS, DEFAULT_POLICY, utc(2026, 1, 15, 6, 0))
    assert (decision.action, decision.primary_reason) == (BLOCK, "invalid_phone")


def test_blocked_decision_keeps_text_and_zones() -> None:
    decision = decide(
        message(KALININGRAD, "marketing", text="Скидка"),
        NO_FACTS,
        DEFAULT_POLICY,
        utc(2026, 1, 15, 12, 0),
    )
    assert decision.action == BLOCK
    assert decision.reasons[0].code == "no_consent"
    assert decision.not_before is None
    assert decision.text == "Скидка"
    assert decision.timezones == ("Europe/Kaliningrad",)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(message(), NO_FACTS, DEFAULT_POLICY, datetime(2026, 1, 15, 6, 0))


def test_next_send_time() -> None:
    now = utc(2026, 1, 15, 21, 30)
    assert next_send_time(message(), NO_FACTS, DEFAULT_POLICY, now) == utc(2026, 1, 16, 5, 0)
    allowed = utc(2026, 1, 15, 6, 0)
    assert next_send_time(message(), NO_FACTS, DEFAULT_POLICY, allowed) is allowed
    assert next_send_time(message("x"), NO_FACTS, DEFAULT_POLICY, allowed) is None


def test_decision_has_a_deciding_reason_for_block_and_defer() -> None:
    with pytest.raises(ValueError, match="deciding reason"):
        Decision(DEFER, (), utc(2026, 1, 1), (), "store", "")
    with pytest.raises(ValueError, match="deciding reason"):
        Decision(BLOCK, (Reason("footer_appended", ""),), None, (), "store", "")
    assert Decision(SEND, (), None, ("Europe/Moscow",), "store", "x").to_dict()["decision"] == SEND
    assert decide(message(), NO_FACTS, DEFAULT_POLICY, utc(2026, 1, 15, 6, 0)).text == (
        "Заказ 727 принят"
    )
