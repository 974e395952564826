"""The campaign planner and its time arithmetic, below the API."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from relay.campaigns.audience import Recipient, filters_problem, iter_audience_pages
from relay.campaigns.control import admission
from relay.campaigns.planner import plan_chunk, prepare, slot_time, write_chunk
from relay.campaigns.schedule import (
    birthday_matches,
    first_run,
    next_run_after,
    parse_start,
)
from relay.storage.models import Campaign, Tenant
from tests.relay.api.test_campaigns_fixtures import consent, make_book, minutes, phone, template

BERLIN, MINSK = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/Minsk")


def camp(**kw):  # type: ignore[no-untyped-def]
    base = {"kind": "campaign", "recurrence": "daily", "greeting_date": None, "start_at": None}
    return SimpleNamespace(**{**base, **kw})


def test_start_times_are_read_in_the_tenants_zone():
    assert parse_start("2026-01-20T10:00", MINSK) == datetime(2026, 1, 20, 7, tzinfo=UTC)
    assert parse_start("2026-01-20 10:00", MINSK) == datetime(2026, 1, 20, 7, tzinfo=UTC)
    assert parse_start("2026-01-20T10:00+05:00", MINSK) == datetime(2026, 1, 20, 5, tzinfo=UTC)
    # 02:30 does not exist in Berlin on 29 March 2026: it moves forward by the gap
    assert parse_start("2026-03-29T02:30", BERLIN) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_start("tomorrow", MINSK)


def test_daily_runs_keep_their_wall_time_across_summer_time():
    c = camp(start_at=datetime(2026, 3, 27, 9, tzinfo=UTC))  # 10:00 in Berlin (winter)
    first = next_run_after(c, BERLIN, c.start_at)
    second = next_run_after(c, BERLIN, first)
    third = next_run_after(c, BERLIN, second)
    assert [first, second, third] == [
        datetime(2026, 3, 28, 9, tzinfo=UTC),  # 10:00 CET
        datetime(2026, 3, 29, 8, tzinfo=UTC),  # 10:00 CEST
        datetime(2026, 3, 30, 8, tzinfo=UTC),
    ]


def test_monthly_and_yearly_runs_clamp_to_short_months_without_drifting():
    c = camp(recurrence="monthly", start_at=datetime(2026, 1, 31, 7, tzinfo=UTC))
    runs, at = [], c.start_at
    for _ in range(3):
        at = next_run_after(c, MINSK, at)
        runs.append(at.astimezone(MINSK).date())
    assert runs == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    leap = camp(recurrence="yearly", start_at=datetime(2024, 2, 29, 7, tzinfo=UTC))
    assert next_run_after(leap, MINSK, leap.start_at).date() == date(2025, 2, 28)
    assert next_run_after(camp(recurrence="once"), MINSK, leap.start_at) is None


def test_greetings_have_their_own_rhythm():
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    march8 = camp(
        kind="date", recurrence="yearly", greeting_date="03-08", start_at=now.replace(hour=6)
    )
    assert first_run(march8, MINSK, now) == datetime(2026, 3, 8, 6, tzinfo=UTC)
    new_year = camp(kind="date", recurrence="yearly", greeting_date="01-01", start_at=now)
    assert first_run(new_year, MINSK, now) == datetime(2027, 1, 1, 12, tzinfo=UTC)
    # a daily run missed by more than the grace period starts tomorrow instead
    stale = camp(kind="birthday", start_at=datetime(2026, 1, 10, 7, tzinfo=UTC))
    assert first_run(stale, MINSK, now) == datetime(2026, 1, 16, 7, tzinfo=UTC)
    assert birthday_matches(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthday_matches(date(2028, 2, 28)) == [(2, 28)]


def test_slots_are_n_per_m_minutes():
    base = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert [slot_time(base, k, 2, 15) for k in (0, 1, 2, 5)] == [
        base,
        base,
        base + minutes(15),
        base + minutes(30),
    ]
    assert slot_time(base, 10_000, None, None) == base


def test_segment_filters_are_checked_and_applied(rt, tenant):
    assert filters_problem({"fields.city": ["Минск", "Гродно"], "name": "x"}) is None
    assert "unknown filter" in filters_problem({"city": "Минск"})
    assert "needs a string" in filters_problem({"fields.city": {"a": 1}})
    cities = ["Минск ", "Гродно", "минск", None, 7.0]
    book = make_book(rt, tenant["id"], 5, fields=lambda i: {"city": cities[i]})
    c = SimpleNamespace(
        tenant_id=tenant["id"], book_id=book, segment={"filters": {"fields.city": ["МИНСК", 7]}}
    )
    with rt.session() as s:
        pages = list(iter_audience_pages(s, c, chunk=2))
    assert [len(p) for p, _ in pages] == [1, 1, 1]  # 3 pages of 2, 2 and 1 contacts read
    assert [r.phone for p, _ in pages for r in p] == [phone(0), phone(2), phone(4)]


def _planning(rt, tenant_id, **campaign):  # type: ignore[no-untyped-def]
    s = rt.session()
    c = Campaign(
        id=1,
        tenant_id=tenant_id,
        name="c",
        template="promo",
        category="marketing",
        channels=["sms"],
        pace_count=None,
        pace_minutes=None,
        **campaign,
    )
    tenant = s.get(Tenant, tenant_id)
    return s, prepare(s, c, tenant, "2026-01-15T12:00:00+00:00")


def test_a_recipient_whose_data_does_not_render_is_blocked_with_the_reason(rt, tenant):
    template(rt, tenant["id"], text="{{ contact.fields.coupon }} — ваш купон. Отказ: STOP")
    consent(rt, tenant["id"], [phone(0), phone(1)])
    s, ctx = _planning(rt, tenant["id"])
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    people = [
        Recipient(1, phone(0), "A", None, {"coupon": "X-1"}),
        Recipient(2, phone(1), "B", None, {}),
    ]
    result = plan_chunk(s, ctx, people, now, 0, now)
    s.close()
    first, second = result.messages
    assert (first.status, first.row["text"]) == ("queued", "X-1 — ваш купон. Отказ: STOP")
    assert (second.status, second.reason) == ("blocked", "content_rule")
    assert "coupon" in second.detail
    assert (result.accepted, dict(result.blocked)) == (1, {"content_rule": 1})


def test_a_recipient_over_the_frequency_cap_is_blocked(rt, tenant):
    template(rt, tenant["id"])
    consent(rt, tenant["id"], [phone(0)])
    s, ctx = _planning(rt, tenant["id"])
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    who = [Recipient(1, phone(0), "A", None, {})]
    for _ in range(2):  # the default cap: 2 marketing messages per 7 days
        write_chunk(s, plan_chunk(s, ctx, who, now, 0, now), now)
    third = plan_chunk(s, ctx, who, now, 0, now)
    s.rollback()
    s.close()
    assert third.messages[0].reason == "frequency_cap"


def test_admission_stops_at_the_first_sendable_recipient(rt, tenant):
    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 50)
    consent(rt, tenant["id"], [phone(0)])
    s, ctx = _planning(rt, tenant["id"], book_id=book, segment=None)
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert admission(s, ctx, now, now) == {"recipients": 1, "sendable": True}
    consent(rt, tenant["id"], [phone(0)], granted=False)  # revoked: nobody left
    verdict = admission(s, ctx, now, now)
    s.close()
    assert verdict == {"recipients": 50, "sendable": False, "blocked": {"no_consent": 50}}


def test_a_run_is_planned_with_few_collections_and_leaves_the_collector_as_it_was(
    rt, tenant, monkeypatch
):
    from relay.campaigns import runs
    from relay.campaigns.campaigns import create_campaign
    from relay.campaigns.control import start

    template(rt, tenant["id"])
    book = make_book(rt, tenant["id"], 30)
    consent(rt, tenant["id"], [phone(i) for i in range(0, 30, 2)])
    seen = []

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
        return plan_chunk(*args, **kwargs)

    monkeypatch.setattr(runs, "plan_chunk", watched)
    before = gc.get_threshold()
    now = datetime(2026, 1, 15, 9, tzinfo=UTC)
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        body = {"name": "gc", "book_id": book, "template": "promo"}
        c = create_campaign(s, t, body, now)
        assert start(rt, s, t, c, "test", now)  # planned inline: a small book
        campaign_id = c.id
    with rt.session() as s:
        progress = s.get_one(Campaign, campaign_id).progress or {}
    assert seen and all(threshold >= 10_000 and frozen for threshold, frozen in seen)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
    assert progress.get("accepted") == 15


def test_overlapping_runs_in_two_threads_leave_the_collector_as_it_was():
    import threading

    from relay.campaigns.runs import _few_collections

    before = gc.get_threshold()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def run_a() -> None:
        with _few_collections():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def run_b() -> None:
        a_in.wait(5)
        with _few_collections():
            b_in.set()
            a_out.wait(5)  # A ends while B still plans
            seen.append(gc.get_threshold()[0])

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen and seen[0] >= 10_000  # B keeps its setting after A ended
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
