"""decide() gives what a plain composition of the rules gives, for random messages, facts,
tenant settings and moments; the consent and frequency rules agree with their one-line
definitions; and deciding from several threads at once changes nothing.

The reference below builds every reason afresh and reads each rule from its definition
(docs/architecture.md, 'Policy'): the latest applicable consent record, revokes winning ties;
sends counted in ``(now - window, now]``; the advertising check on the raw text; quiet hours by
the jumping loop of test_quiet_hours_plan.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from relay.policy import (
    BLOCK,
    CONTENT_RULE,
    DEFER,
    FREQUENCY_CAP,
    NO_CONSENT,
    SEND,
    SENDER_NOT_ALLOWED,
    ConsentRecord,
    Decision,
    PolicyMessage,
    Reason,
    RecipientFacts,
    StopEntry,
    TenantPolicy,
    current_consent,
    decide,
    frequency_capped,
    has_optout_wording,
    invalid_phone,
    resolve_timezones,
    sender_name_problem,
    stop_listed,
    tenant_disabled,
)
from relay.policy.advertising import check_advertising
from relay.policy.consent_line import with_consent_line
from tests.relay.policy.test_quiet_hours_plan import loop_next_allowed, loop_quiet_zones

START = datetime(2026, 1, 15, tzinfo=UTC)
PHONES = (
    "+79161234567",  # 16 candidate zones
    "+79261234567",
    "+74951234567",  # Moscow
    "+74232123456",  # Vladivostok
    "+74012123456",  # Kaliningrad
    "+375291234567",  # Minsk
    "+77011234567",  # Kazakhstan
    "+4930123456",  # Berlin: summer time
    "+12125550123",  # New York
    "+7916",  # impossible length
    "not a number",
)
TEXTS = (
    "Заказ 727 принят",
    "Скидка 10% на всё! Отписаться: СТОП",
    "Вы забыли корзину",
    "Лучший магазин города! Скидки",
    "Пиво и вино со скидкой, отписка: STOP",
    "   ",
    "Новая коллекция\nОтписаться: СТОП на 1234",
    "Новая коллекция\nОтказ от рассылки: 1234",  # a footer without the opt-out words
)
SENDERS = (None, "SHOP", "Магазин", "Bad sender name!", " SHOP", "12345")
ZONE_FACTS = (None, "Asia/Omsk", "Not/AZone", "America/New_York")
REGIONS = (None, None, "RU-MOW", "RU-PRI", "XX-NOPE", "BY-HM")
OFFSETS = (UTC, timezone(timedelta(hours=3)), ZoneInfo("Asia/Vladivostok"))


def random_policy(rng: random.Random) -> TenantPolicy:
    start, end = rng.choice(
        [
            (time(23), time(7)),
            (time(22), time(8)),
            (time(21, 30, 30), time(8, 0, 15)),
            (time(12), time(11)),  # no common minute for 16 zones: the store-zone fallback
            (time(12), time(11)),
            (time(9), time(9)),  # no quiet hours
            (time(9), time(18)),
        ]
    )
    return TenantPolicy(
        quiet_start=start,
        quiet_end=end,
        transactional_quiet_hours=rng.random() < 0.7,
        timezone_mode=rng.choice(["strict", "strict", "store"]),
        store_timezone=rng.choice(["Europe/Moscow", "Asia/Yekaterinburg", "Europe/Berlin"]),
        frequency_cap=rng.choice([0, 1, 2, 3]),
        frequency_window=rng.choice([timedelta(days=7), timedelta(days=3), timedelta(hours=36)]),
        optout_footer=rng.choice(
            ["", "Отписаться: СТОП на 1234", "  STOP 1234 ", "Отказ от рассылки: 1234"]
        ),
        sender_names=rng.choice([frozenset(), frozenset({("sms", "SHOP"), ("viber", "Магазин")})]),
        disabled=rng.random() < 0.03,
        content_waivers=rng.choice(
            [frozenset(), frozenset({("superlative", "лучший"), ("restricted_goods", "*")})]
        ),
        consent_source_line=rng.random() < 0.3,
    )


def random_moment(rng: random.Random) -> datetime:
    moment = START + timedelta(seconds=rng.uniform(-30 * 86400, 200 * 86400))
    if rng.random() < 0.3:
        moment = moment.replace(second=0, microsecond=0)
    return moment.astimezone(rng.choice(OFFSETS))


def random_case(rng: random.Random) -> tuple[PolicyMessage, RecipientFacts, TenantPolicy, datetime]:
    now = random_moment(rng)
    channel = rng.choice(["sms", "viber"])
    category = rng.choice(["transactional", "marketing"])
    message = PolicyMessage(
        phone=rng.choice(PHONES),
        category=category,
        channel=channel,
        text=rng.choice(TEXTS),
        sender=rng.choice(SENDERS),
        urgent=rng.random() < 0.2,
        confirmation=category == "transactional" and rng.random() < 0.1,
    )
    consents = tuple(
        ConsentRecord(
            granted=rng.random() < 0.7,
            channel=rng.choice([None, "sms", "viber"]),
            source=rng.choice(["checkout_checkbox", "registration", "crm_field"]),
            # whole days apart or equal, in different zones: ties must go to the revoke
            recorded_at=(now - timedelta(days=rng.randint(0, 3))).astimezone(rng.choice(OFFSETS)),
        )
        for _ in range(rng.randint(0, 4))
    )
    stops = tuple(
        StopEntry(rng.choice([None, "sms", "viber"]), rng.choice(["keyword", "review"]), now)
        for _ in range(rng.random() < 0.1)
    )
    sends = tuple(
        now - timedelta(days=rng.choice([0, 1, 3, 7]) * rng.random(), hours=rng.choice([0, 36]))
        for _ in range(rng.randint(0, 3))
    )
    facts = RecipientFacts(
        stop_entries=stops,
        consents=consents,
        recent_marketing=sends,
        explicit_timezone=rng.choice(ZONE_FACTS) if rng.random() < 0.5 else None,
        region=rng.choice(REGIONS),
        numbering_timezone=rng.choice(ZONE_FACTS) if rng.random() < 0.5 else None,
    )
    return message, facts, random_policy(rng), now


def plain_consent(consents: tuple[ConsentRecord, ...], channel: str) -> ConsentRecord | None:
    applicable = [c for c in consents if c.channel is None or c.channel == channel]
    return max(applicable, key=lambda c: (c.recorded_at, not c.granted), default=None)


def plain_count(sends: tuple[datetime, ...], now: datetime, window: timedelta) -> int:
    return len([sent for sent in sends if now - window < sent <= now])


def plain_block(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """The blocking rules in their order, each read from its definition."""
    for rule in (tenant_disabled, invalid_phone, stop_listed):
        reason = rule(message, facts, policy, now)
        if reason is not None:
            return reason
    sender, channel = message.sender, message.channel
    problem = sender_name_problem(channel, sender) if sender is not None else None
    if problem is not None:
        return Reason(SENDER_NOT_ALLOWED, problem)
    if policy.sender_names and (channel, sender) not in policy.sender_names:
        names = sorted(name for each, name in policy.sender_names if each == channel)
        return Reason(
            SENDER_NOT_ALLOWED,
            f"sender {sender!r} is not registered for {channel}"
            f" (registered: {', '.join(names) or 'none'})",
        )
    if message.category != "marketing":
        return None
    record = plain_consent(facts.consents, channel)
    if record is None:
        return Reason(NO_CONSENT, f"no marketing consent on record for {channel}")
    if not record.granted:
        return Reason(
            NO_CONSENT,
            f"marketing consent revoked {record.recorded_at.isoformat()} ({record.source})",
        )
    count = plain_count(facts.recent_marketing, now, policy.frequency_window)
    if count >= policy.frequency_cap:
        days = policy.frequency_window.total_seconds() / 86400
        return Reason(
            FREQUENCY_CAP,
            f"{count} marketing messages in the last {days:g} days (cap {policy.frequency_cap})",
        )
    if not has_optout_wording(message.text) and not policy.optout_footer.strip():
        return Reason(
            CONTENT_RULE,
            "marketing text has no opt-out wording (STOP/СТОП/отписаться) and no footer is set",
        )
    if message.confirmation:
        return None
    findings = check_advertising(message.text, sender_known=True, waivers=policy.content_waivers)
    if findings:
        shown = "; ".join(
            f.rule + (f" ({', '.join(f.words[:5])})" if f.words else "") for f in findings
        )
        return Reason(CONTENT_RULE, f"advertising rules: {shown}")
    return None


def plain_decide(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Decision:
    zones, source = resolve_timezones(message.phone, facts, policy)
    reason = plain_block(message, facts, policy, now)
    if reason is not None:
        return Decision(BLOCK, (reason,), None, zones, source, message.text)
    text, notes = message.text, ()
    footer = policy.optout_footer.strip()
    if (
        message.category == "marketing"
        and footer
        and not has_optout_wording(text)
        and footer not in text
    ):
        text = f"{text.rstrip()}\n{footer}" if text.rstrip() else footer
        notes = (Reason("footer_appended", "the tenant's opt-out footer was appended"),)
    sourced = with_consent_line(text, message, facts, policy)
    if sourced != text:
        text = sourced
        notes += (Reason("consent_source_added", "the consent's source and date were added"),)
    if message.category == "transactional" and (
        not policy.transactional_quiet_hours or message.urgent
    ):
        return Decision(SEND, notes, None, zones, source, text)
    start, end = policy.quiet_start, policy.quiet_end
    not_before = loop_next_allowed(now, zones, start, end)
    if not_before is None:
        notes += (
            Reason(
                "timezone_fallback",
                f"no minute within 3 days is outside quiet hours in all {len(zones)} zones; "
                f"using the store zone {policy.store_timezone}",
            ),
        )
        zones, source = (policy.store_timezone,), "store"
        not_before = loop_next_allowed(now, zones, start, end)
    if not_before is now:
        return Decision(SEND, notes, None, zones, source, text)
    quiet = loop_quiet_zones(now, zones, start, end)
    shown = ", ".join(quiet[:3]) + (f" (+{len(quiet) - 3} more)" if len(quiet) > 3 else "")
    window = f"{start.strftime('%H:%M')}-{end.strftime('%H:%M')}"
    reason = Reason("quiet_hours", f"quiet hours {window} in {shown}")
    return Decision(DEFER, (reason, *notes), not_before, zones, source, text)


@pytest.mark.parametrize("seed", range(3))
def test_decide_gives_what_the_plain_rules_give(seed: int) -> None:
    rng = random.Random(seed)
    seen = set()
    for _ in range(1500):
        case = random_case(rng)
        expected = plain_decide(*case)
        # twice: the second call is answered from whatever the first one cached
        for _ in range(2):
            got = decide(*case)
            assert got == expected, case
            assert repr(got.not_before) == repr(expected.not_before), case
        seen.update((expected.action, reason.code) for reason in expected.reasons)
    # every kind of outcome was compared
    assert {(a, c) for a, c in seen if a != BLOCK} >= {
        (SEND, "footer_appended"),
        (SEND, "consent_source_added"),
        (DEFER, "quiet_hours"),
        (DEFER, "timezone_fallback"),
    }
    assert {c for a, c in seen if a == BLOCK} >= {
        "tenant_disabled",
        "invalid_phone",
        "stop_list",
        "sender_not_allowed",
        "no_consent",
        "frequency_cap",
        "content_rule",
    }


def test_consent_and_frequency_agree_with_their_definitions() -> None:
    rng = random.Random(42)
    for _ in range(3000):
        message, facts, policy, now = random_case(rng)
        for channel in ("sms", "viber"):
            assert current_consent(facts.consents, channel) is plain_consent(
                facts.consents, channel
            )
        marketing = PolicyMessage(message.phone, "marketing", message.channel, "x")
        reason = frequency_capped(marketing, facts, policy, now)
        count = plain_count(facts.recent_marketing, now, policy.frequency_window)
        assert (reason is not None) == (count >= policy.frequency_cap)
        if reason is not None:
            assert reason.detail.startswith(f"{count} marketing messages")


def test_deciding_from_many_threads_gives_the_same_decisions() -> None:
    rng = random.Random(7)
    cases = [random_case(rng) for _ in range(400)]
    expected = [plain_decide(*case) for case in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        rounds = [pool.map(lambda case: decide(*case), cases) for _ in range(8)]
        for got in rounds:
            assert list(got) == expected
