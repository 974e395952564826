"""One decision path: `decide_for` decides a tenant's batch with one query per table, counts
the batch's own marketing against the frequency cap, paces by accepted messages, and is the
only caller of the pure `decide`."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from relay.decisions.decide_batch import Planned, decide_for
from relay.decisions.facts import RecipientContext, load_facts
from relay.messages.lifecycle import MessageStatus
from relay.storage.models import Tenant
from tests.relay.api.test_campaigns_fixtures import consent, phone, stop

ROOT = Path(__file__).resolve().parents[3]
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 15:00 in Minsk
S = MessageStatus


def ad(number: str, **kw) -> Planned:  # type: ignore[no-untyped-def]
    text = "Скидки. Отказ: STOP"
    return Planned(phone=number, category="marketing", channel="sms", text=text, **kw)


def test_the_frequency_cap_counts_what_the_batch_itself_plans(rt, tenant):
    consent(rt, tenant["id"], [phone(1)])
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        out = decide_for(s, t, [ad(phone(1)), ad(phone(1)), ad(phone(1))], NOON)
    assert [(o.status, o.reason) for o in out] == [
        (S.QUEUED, None),
        (S.QUEUED, None),
        (S.BLOCKED, "frequency_cap"),  # the default cap: 2 in 7 days
    ]


def test_a_message_already_stored_is_not_counted_against_itself(rt, tenant):
    consent(rt, tenant["id"], [phone(1)])
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        out = decide_for(s, t, [ad(phone(1), message_id="m1"), ad(phone(1), message_id="m1")], NOON)
    assert [o.status for o in out] == [S.QUEUED, S.QUEUED]


def test_paced_slots_count_only_accepted_messages(rt, tenant):
    consent(rt, tenant["id"], [phone(1), phone(3)])
    stop(rt, tenant["id"], phone(2))
    base = NOON + timedelta(minutes=5)
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        out = decide_for(
            s,
            t,
            [ad(phone(1)), ad(phone(2)), ad(phone(4)), ad(phone(3))],
            NOON,
            slots=lambda k: base + timedelta(minutes=10 * k),
        )
    assert [(o.status, o.reason, o.not_before) for o in out] == [
        (S.SCHEDULED, None, base),
        (S.BLOCKED, "stop_list", None),
        (S.BLOCKED, "no_consent", None),
        (S.SCHEDULED, None, base + timedelta(minutes=10)),
    ]


def test_quiet_hours_schedule_and_an_unsendable_message_is_blocked_first(rt, tenant):
    night = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)  # midnight in Minsk
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        deferred, broken = decide_for(
            s,
            t,
            [
                Planned(phone(1), "transactional", "sms", "Заказ принят"),
                Planned(phone(1), "transactional", "sms", "", unsendable="missing coupon"),
            ],
            night,
        )
    assert (deferred.status, deferred.reason) == (S.SCHEDULED, "quiet_hours")
    assert deferred.not_before == datetime(2026, 1, 16, 4, 0, tzinfo=UTC)  # 07:00 in Minsk
    assert deferred.deferred and deferred.timezones == ("Europe/Minsk",)
    assert (broken.status, broken.reason, broken.detail) == (
        S.BLOCKED,
        "content_rule",
        "missing coupon",
    )


def test_a_batch_costs_the_same_queries_as_one_message(rt, tenant):
    consent(rt, tenant["id"], [phone(i) for i in range(40)])
    counts = []
    statements: list[str] = []

    def collect(_conn, _cursor, statement, *_rest):  # type: ignore[no-untyped-def]
        statements.append(statement)

    for n in (1, 40):
        statements.clear()
        with rt.session() as s:
            t = s.get(Tenant, tenant["id"])
            event.listen(rt.engine, "before_cursor_execute", collect)
            try:
                decide_for(s, t, [ad(phone(i)) for i in range(n)], NOON)
            finally:
                event.remove(rt.engine, "before_cursor_execute", collect)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 5  # sender names, stop-list, consents, recent marketing


def test_every_recipient_of_a_batch_larger_than_one_statement_gets_its_own_facts(rt, tenant):
    # SQLite asks 500 phones per statement, PostgreSQL the whole batch in one: the facts of the
    # last recipients must be found either way
    consent(rt, tenant["id"], [phone(i) for i in range(1200) if i % 7])
    stop(rt, tenant["id"], phone(1199))
    statements: list[str] = []

    def collect(_conn, _cursor, statement, *_rest):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        event.listen(rt.engine, "before_cursor_execute", collect)
        try:
            out = decide_for(s, t, [ad(phone(i)) for i in range(1200)], NOON)
        finally:
            event.remove(rt.engine, "before_cursor_execute", collect)
    expected = ["stop_list" if i == 1199 else None if i % 7 else "no_consent" for i in range(1200)]
    assert [o.reason for o in out] == expected
    if rt.engine.dialect.name == "postgresql":
        assert len(statements) <= 5  # sender names, stop-list, consents, recent marketing


def test_numbers_are_compared_whole_and_as_written(rt, tenant):
    # phones are VARCHAR(20): a longer one must not be cut to match a stored prefix; and what
    # a CRM sends as a phone may hold quotes, backslashes, commas or braces
    stored = "+3752920000550000000"
    odd = ['+375 "29"', "+375\\29", "+375,29", "{+375}", "NULL"]
    for number in [stored, *odd]:
        stop(rt, tenant["id"], number)
    with rt.session() as s:
        longer = load_facts(s, tenant["id"], [stored + "12"], NOON)
        found = load_facts(s, tenant["id"], [stored, *odd, "+375", "29"], NOON)
    assert dict(longer.stops) == {}
    assert set(found.stops) == {stored, *odd}


def test_numbers_with_nothing_stored_get_the_facts_of_their_own_zone(rt, tenant):
    consent(rt, tenant["id"], [phone(3)])
    with rt.session() as s:
        batch = load_facts(s, tenant["id"], [phone(i) for i in range(4)], NOON)
    minsk, moscow = RecipientContext("Europe/Minsk"), RecipientContext("Europe/Moscow", "77")
    facts = [
        batch.for_phone(phone(0), minsk),
        batch.for_phone(phone(1), moscow),
        batch.for_phone(phone(2)),
        batch.for_phone(phone(3), minsk),
    ]
    assert [(f.explicit_timezone, f.region, len(f.consents)) for f in facts] == [
        ("Europe/Minsk", None, 0),
        ("Europe/Moscow", "77", 0),
        (None, None, 0),
        ("Europe/Minsk", None, 1),
    ]
    with pytest.raises(ValueError, match="explicit_timezone"):
        batch.for_phone(phone(0), RecipientContext(["Europe/Minsk"]))  # type: ignore[arg-type]


def test_decide_for_is_the_only_caller_of_the_policy():
    callers = []
    for path in sorted((ROOT / "relay").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("relay/policy/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func).split(".")[-1]
                if name in ("decide", "next_send_time"):
                    callers.append(rel)
    assert callers == ["relay/decisions/decide_batch.py"]
