"""Consent ledger, stop-list and frequency cap, through decide() and the named rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from relay.policy import (
    BLOCK,
    SEND,
    ConsentRecord,
    PolicyMessage,
    RecipientFacts,
    StopEntry,
    TenantPolicy,
    consent_missing,
    current_consent,
    decide,
    frequency_capped,
    stop_listed,
)
from tests.relay.policy.policy_builders import DEFAULT_POLICY, message, utc

NOW = utc(2026, 1, 15, 9, 0)  # 12:00 in Moscow: no quiet hours in the way
MOSCOW = "+74951234567"
PROMO = "Скидка 10% до пятницы. Отписаться: СТОП на 1234"


def grant(day: int, channel: str | None = None, granted: bool = True) -> ConsentRecord:
    return ConsentRecord(
        granted=granted,
        channel=channel,
        source="checkout_checkbox",
        recorded_at=utc(2026, 1, day, 12, 0),
    )


def revoke(day: int, channel: str | None = None) -> ConsentRecord:
    return grant(day, channel, granted=False)


def promo(channel: str = "sms") -> PolicyMessage:
    return message(MOSCOW, "marketing", channel, PROMO)


def action(
    facts: RecipientFacts, msg: PolicyMessage | None = None, policy: TenantPolicy = DEFAULT_POLICY
) -> tuple[str, str | None]:
    decision = decide(msg or promo(), facts, policy, NOW)
    return decision.action, decision.primary_reason


def test_granted_then_revoked_blocks_marketing() -> None:
    assert action(RecipientFacts(consents=(grant(2), revoke(5)))) == (BLOCK, "no_consent")


def test_revoked_then_granted_sends() -> None:
    assert action(RecipientFacts(consents=(revoke(2), grant(5)))) == (SEND, None)


def test_ledger_order_does_not_matter_only_recorded_at() -> None:
    assert action(RecipientFacts(consents=(revoke(5), grant(2)))) == (BLOCK, "no_consent")
    assert action(RecipientFacts(consents=(grant(5), revoke(2)))) == (SEND, None)


def test_no_consent_at_all_blocks_marketing() -> None:
    decision = decide(promo(), RecipientFacts(), DEFAULT_POLICY, NOW)
    assert (decision.action, decision.reasons[0].code) == (BLOCK, "no_consent")
    assert decision.reasons[0].detail == "no marketing consent on record for sms"


def test_channel_specific_consent() -> None:
    viber_only = RecipientFacts(consents=(grant(2, "viber"),))
    assert action(viber_only, promo("sms")) == (BLOCK, "no_consent")
    assert action(viber_only, promo("viber")) == (SEND, None)
    # An all-channel grant, then SMS alone revoked: Viber is still allowed.
    mixed = RecipientFacts(consents=(grant(2, None), revoke(5, "sms")))
    assert action(mixed, promo("sms")) == (BLOCK, "no_consent")
    assert action(mixed, promo("viber")) == (SEND, None)
    # A later all-channel revoke overrides an earlier channel grant.
    later = RecipientFacts(consents=(grant(2, "sms"), revoke(5, None)))
    assert action(later, promo("sms")) == (BLOCK, "no_consent")


def test_same_instant_grant_and_revoke_counts_as_revoked() -> None:
    assert current_consent((grant(5), revoke(5)), "sms") == revoke(5)


def test_transactional_needs_no_consent() -> None:
    facts = RecipientFacts(consents=(revoke(5),))
    assert action(facts, message(MOSCOW)) == (SEND, None)
    assert consent_missing(message(MOSCOW), facts, DEFAULT_POLICY, NOW) is None


def test_stop_list_blocks_transactional_too() -> None:
    facts = RecipientFacts(stop_entries=(StopEntry(None, "keyword", utc(2026, 1, 3)),))
    decision = decide(message(MOSCOW), facts, DEFAULT_POLICY, NOW)
    assert (decision.action, decision.primary_reason) == (BLOCK, "stop_list")
    assert decision.reasons[0].detail == (
        "on the stop-list for all channels since 2026-01-03T00:00:00+00:00 (keyword)"
    )


def test_channel_stop_entry_blocks_only_that_channel() -> None:
    facts = RecipientFacts(stop_entries=(StopEntry("viber", "admin", utc(2026, 1, 3)),))
    assert action(facts, message(MOSCOW, channel="viber")) == (BLOCK, "stop_list")
    assert action(facts, message(MOSCOW, channel="sms")) == (SEND, None)


def test_without_the_entry_the_number_is_messaged_again() -> None:
    # START lifting a keyword entry is the storage layer's work; here the entry is gone.
    assert action(RecipientFacts(), message(MOSCOW)) == (SEND, None)
    assert stop_listed(message(MOSCOW), RecipientFacts(), DEFAULT_POLICY, NOW) is None


def test_stop_list_outranks_consent() -> None:
    facts = RecipientFacts(
        stop_entries=(StopEntry("sms", "crm", utc(2026, 1, 3)),), consents=(grant(2),)
    )
    assert action(facts) == (BLOCK, "stop_list")


def _sent(*days_ago: float) -> tuple[datetime, ...]:
    return tuple(NOW - timedelta(days=d) for d in days_ago)


def test_third_marketing_message_in_seven_days_is_blocked() -> None:
    facts = RecipientFacts(consents=(grant(1),), recent_marketing=_sent(1, 6.9))
    decision = decide(promo(), facts, DEFAULT_POLICY, NOW)
    assert (decision.action, decision.primary_reason) == (BLOCK, "frequency_cap")
    assert decision.reasons[0].detail == "2 marketing messages in the last 7 days (cap 2)"


def test_a_send_eight_days_ago_does_not_count() -> None:
    facts = RecipientFacts(consents=(grant(1),), recent_marketing=_sent(1, 8))
    assert action(facts) == (SEND, None)
    # Exactly one window ago has dropped out too.
    facts = RecipientFacts(consents=(grant(1),), recent_marketing=_sent(1, 7))
    assert action(facts) == (SEND, None)


def test_frequency_cap_ignores_transactional_and_follows_the_tenant() -> None:
    busy = RecipientFacts(consents=(grant(1),), recent_marketing=_sent(1, 2, 3))
    assert frequency_capped(message(MOSCOW), busy, DEFAULT_POLICY, NOW) is None
    generous = TenantPolicy(frequency_cap=4)
    assert action(busy, policy=generous) == (SEND, None)
    daily = TenantPolicy(frequency_cap=1, frequency_window=timedelta(days=1))
    assert action(
        RecipientFacts(consents=(grant(1),), recent_marketing=_sent(0.5)), policy=daily
    ) == (BLOCK, "frequency_cap")
    assert action(
        RecipientFacts(consents=(grant(1),), recent_marketing=_sent(1.5)), policy=daily
    ) == (SEND, None)
