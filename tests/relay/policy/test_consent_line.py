"""The consent source named in the message: taken from the ledger's grant in force, in the
store's zone, only for marketing, only when the tenant wants it and it adds no SMS part."""

from __future__ import annotations

from datetime import UTC, datetime

from relay.policy import PolicyMessage, RecipientFacts, TenantPolicy, decide
from relay.policy.consent_line import sms_parts, with_consent_line
from relay.policy.model import ConsentRecord
from shared.segments import count_segments

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
GRANT = ConsentRecord(True, None, "checkout_checkbox", datetime(2026, 3, 11, 22, 30, tzinfo=UTC))
POLICY = TenantPolicy(store_timezone="Europe/Minsk", consent_source_line=True)
LINE = "Вы подписались при оформлении заказа 12.03.2026"  # 01:30 on the 12th in Minsk


def msg(text, category="marketing", channel="sms"):  # type: ignore[no-untyped-def]
    return PolicyMessage("+375291234567", category, channel, text)


def test_the_line_comes_from_the_grant_in_force_in_the_store_zone():
    out = with_consent_line(
        "Скидка 10%", msg("Скидка 10%"), RecipientFacts(consents=(GRANT,)), POLICY
    )
    assert out == f"Скидка 10%\n{LINE}"
    decision = decide(msg("Ромашка: −10%. STOP"), RecipientFacts(consents=(GRANT,)), POLICY, NOW)
    assert decision.text.endswith(LINE)
    assert "consent_source_added" in [r.code for r in decision.reasons]


def test_each_source_has_its_words():
    form = ConsentRecord(True, "sms", "subscription_form", datetime(2026, 1, 5, 9, tzinfo=UTC))
    out = with_consent_line("Акция", msg("Акция"), RecipientFacts(consents=(form,)), POLICY)
    assert out.endswith("Вы подписались на рассылку на сайте 05.01.2026")


def test_nothing_is_added_when_off_transactional_revoked_or_already_there():
    facts = RecipientFacts(consents=(GRANT,))
    off = TenantPolicy(store_timezone="Europe/Minsk")
    assert with_consent_line("Акция", msg("Акция"), facts, off) == "Акция"
    assert with_consent_line("Заказ", msg("Заказ", "transactional"), facts, POLICY) == "Заказ"
    revoked = RecipientFacts(consents=(GRANT, ConsentRecord(False, None, "keyword", NOW)))
    assert with_consent_line("Акция", msg("Акция"), revoked, POLICY) == "Акция"
    once = f"Акция\n{LINE}"
    assert with_consent_line(once, msg(once), facts, POLICY) == once


def test_the_line_is_added_only_within_the_segment_budget():
    facts = RecipientFacts(consents=(GRANT,))
    fits = "А" * 10  # one UCS-2 part with the line (10 + 1 + 47 ≤ 70)
    assert with_consent_line(fits, msg(fits), facts, POLICY) != fits
    full = "А" * 60  # the line would make it two parts
    assert with_consent_line(full, msg(full), facts, POLICY) == full
    two = "А" * 80  # two parts (134 units) have room for the line
    assert with_consent_line(two, msg(two), facts, POLICY).endswith(LINE)
    viber = "А" * 990
    assert with_consent_line(viber, msg(viber, channel="viber"), facts, POLICY) == viber


def test_the_pure_part_count_agrees_with_shared_segments():
    for text in (
        "",
        "Hello",
        "a" * 160,
        "a" * 161,
        "€" * 80,
        "Привет" * 12,
        "Я" * 134,
        "Я" * 135,
        "😀" * 35,
        "😀" * 36,
        "x{" * 60,
    ):
        assert sms_parts(text) == count_segments(text).segments, text
