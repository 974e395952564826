"""Opt-out wording and footer, and sender names."""

from __future__ import annotations

import pytest

from relay.policy import (
    BLOCK,
    SEND,
    ConsentRecord,
    RecipientFacts,
    TenantPolicy,
    decide,
    has_optout_wording,
    sender_name_problem,
)
from tests.relay.policy.policy_builders import DEFAULT_POLICY, message, utc

NOW = utc(2026, 1, 15, 9, 0)
MOSCOW = "+74951234567"
CONSENTED = RecipientFacts(consents=(ConsentRecord(True, None, "registration", utc(2026, 1, 1)),))
FOOTER = "Отказ: СТОП на 1234"
WITH_FOOTER = TenantPolicy(optout_footer=FOOTER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reply STOP to opt out", True),
        ("стоп — 1234", True),
        ("Отписаться: ссылка", True),
        ("отписка по ссылке", True),
        ("unsubscribe here", True),
        ("NONSTOP sale", False),
        ("Купите стопку тарелок", False),
        ("Скидка 10%", False),
    ],
)
def test_optout_wording(text: str, expected: bool) -> None:
    assert has_optout_wording(text) is expected


def test_footer_is_appended_when_missing() -> None:
    decision = decide(message(MOSCOW, "marketing", text="Скидка 10%"), CONSENTED, WITH_FOOTER, NOW)
    assert decision.action == SEND
    assert decision.text == "Скидка 10%\nОтказ: СТОП на 1234"
    assert [r.code for r in decision.reasons] == ["footer_appended"]
    assert decision.primary_reason is None


def test_footer_is_not_appended_twice() -> None:
    once = decide(message(MOSCOW, "marketing", text="Скидка 10%"), CONSENTED, WITH_FOOTER, NOW)
    again = decide(message(MOSCOW, "marketing", text=once.text), CONSENTED, WITH_FOOTER, NOW)
    assert again.text == once.text
    assert again.reasons == ()
    # A footer without opt-out words is still recognised as already there.
    plain = TenantPolicy(optout_footer="Магазин Ромашка")
    first = decide(message(MOSCOW, "marketing", text="Скидка"), CONSENTED, plain, NOW)
    assert first.text == "Скидка\nМагазин Ромашка"
    assert (
        decide(message(MOSCOW, "marketing", text=first.text), CONSENTED, plain, NOW).text
        == first.text
    )


def test_own_optout_wording_needs_no_footer() -> None:
    text = "Скидка 10%. STOP на 1234"
    decision = decide(message(MOSCOW, "marketing", text=text), CONSENTED, WITH_FOOTER, NOW)
    assert (decision.action, decision.text) == (SEND, text)


def test_no_footer_and_no_optout_wording_is_refused() -> None:
    decision = decide(
        message(MOSCOW, "marketing", text="Скидка 10%"), CONSENTED, DEFAULT_POLICY, NOW
    )
    assert (decision.action, decision.primary_reason) == (BLOCK, "content_rule")


def test_transactional_text_is_left_alone() -> None:
    decision = decide(message(MOSCOW, text="Заказ принят"), CONSENTED, WITH_FOOTER, NOW)
    assert (decision.action, decision.text) == (SEND, "Заказ принят")


def test_deferred_marketing_carries_the_footer_too() -> None:
    night = utc(2026, 1, 15, 21, 0)
    decision = decide(message(MOSCOW, "marketing", text="Скидка"), CONSENTED, WITH_FOOTER, night)
    assert [r.code for r in decision.reasons] == ["quiet_hours", "footer_appended"]
    assert decision.text == "Скидка\nОтказ: СТОП на 1234"


@pytest.mark.parametrize(
    ("channel", "sender", "valid"),
    [
        ("sms", "SHOP", True),
        ("sms", "My-Shop_2.0", True),
        ("sms", "ABCDEFGHIJK", True),
        ("sms", "ABCDEFGHIJKL", False),
        ("sms", "Магазин", False),
        ("sms", "SHOP!", False),
        ("sms", " SHOP", False),
        ("sms", "", False),
        ("sms", "+79161234567", True),
        ("sms", "1234", True),
        ("sms", "1234567890123456", False),
        ("viber", "Магазин Ромашка", True),
        ("viber", "Shop & Co.", True),
        ("viber", "Магазин «Ромашка» №1", True),
        ("viber", "Магазин 🌿", False),
        ("viber", "A" * 20, True),
        ("viber", "A" * 21, False),
        ("viber", "...", False),
    ],
)
def test_sender_name_syntax(channel: str, sender: str, valid: bool) -> None:
    assert (sender_name_problem(channel, sender) is None) is valid


def test_sender_must_be_registered_for_the_channel() -> None:
    policy = TenantPolicy(sender_names=frozenset({("sms", "SHOP"), ("viber", "Магазин")}))

    def verdict(channel: str, sender: str | None) -> tuple[str, str | None]:
        decision = decide(message(MOSCOW, channel=channel, sender=sender), CONSENTED, policy, NOW)
        return decision.action, decision.primary_reason

    assert verdict("sms", "SHOP") == (SEND, None)
    assert verdict("viber", "Магазин") == (SEND, None)
    assert verdict("sms", "OTHER") == (BLOCK, "sender_not_allowed")
    assert verdict("viber", "SHOP") == (BLOCK, "sender_not_allowed")
    assert verdict("sms", None) == (BLOCK, "sender_not_allowed")


def test_badly_formed_sender_is_refused_even_without_a_registry() -> None:
    decision = decide(message(MOSCOW, sender="ABCDEFGHIJKL"), CONSENTED, DEFAULT_POLICY, NOW)
    assert (decision.action, decision.primary_reason) == (BLOCK, "sender_not_allowed")
    assert "at most 11" in decision.reasons[0].detail
    assert decide(message(MOSCOW, sender=None), CONSENTED, DEFAULT_POLICY, NOW).action == SEND
