"""Mailings in a window on each recipient's clock, and at each recipient's best hour.

Runs on the default SQLite + embedded Redis and, with RELAY_TEST_DATABASE_URL and
RELAY_TEST_REDIS_URL, on PostgreSQL and a real Redis server. The store's numbers are
Belarusian mobiles: one zone, Europe/Minsk (UTC+3 all year).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from relay.growth.best_hour import modal_hour
from relay.growth.tick import growth_tick
from tests.relay.api.test_campaigns_fixtures import (
    consent,
    make_book,
    messages,
    phone,
    release_scheduled,
    template,
)
from tests.support.factories import run_worker, sandbox_sends

LINK = re.compile(r"http://relay\.test/l/([A-Za-z0-9_-]+)")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def _start(client, tenant, body):  # type: ignore[no-untyped-def]
    made = client.post("/v1/campaigns", json=body, headers=tenant["headers"])
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    started = client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"])
    assert started.status_code == 200, started.get_json()
    return made.get_json()


def test_a_paced_window_sends_what_fits_and_the_rest_in_the_next_days_window(
    rt, client, tenant, clock
):
    clock.set(utc(15, 5))  # 08:00 in Minsk
    template(rt, tenant["id"], name="promo", text="Скидка 10% сегодня.")
    book = make_book(rt, tenant["id"], 5)
    consent(rt, tenant["id"], [phone(i) for i in range(5)])
    body = {
        "name": "Lunch",
        "book_id": book,
        "template": "promo",
        "local_time": "11:00",
        "local_until": "12:00",
        "pace": {"count": 2, "minutes": 30},
    }
    made = _start(client, tenant, body)
    assert (made["local_time"], made["local_until"], made["best_hour"]) == ("11:00", "12:00", False)
    planned = sorted(m.not_before for m in messages(rt, made["id"]))
    # 2 per 30 minutes from 11:00 to 12:00 Minsk: 4 today, the fifth tomorrow at 11:00
    assert planned == [utc(15, 8), utc(15, 8), utc(15, 8, 30), utc(15, 8, 30), utc(16, 8)]
    assert {m.status for m in messages(rt, made["id"])} == {"scheduled"}

    clock.set(utc(15, 8, 59))
    release_scheduled(rt)
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 4  # nothing after 12:00 Minsk that day
    clock.set(utc(16, 8))
    release_scheduled(rt)
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 5


def test_best_hour_sends_each_recipient_when_they_most_often_click(rt, client, tenant, clock):
    clock.set(utc(5, 6))
    tenant_id = tenant["id"]
    template(rt, tenant_id, name="promo", text="Новинки: https://shop.example.by/new")
    book = make_book(rt, tenant_id, 3)
    consent(rt, tenant_id, [phone(i) for i in range(3)])
    first = _start(client, tenant, {"name": "Old", "book_id": book, "template": "promo"})
    run_worker(rt)
    token = {
        m.phone: LINK.search(m.text).group(1)  # type: ignore[union-attr]
        for m in messages(rt, first["id"])
    }
    # phone(0) opens its links in the evening (17:xx Minsk = 14:xx UTC) on three days;
    # phone(1) twice only: not enough history; phone(2) never
    for day, who in ((5, 0), (6, 0), (7, 0), (5, 1), (6, 1)):
        clock.set(utc(day, 14, 10 + day))
        assert client.get(f"/l/{token[phone(who)]}").status_code == 302
    growth_tick(rt)

    clock.set(utc(20, 5))  # 08:00 in Minsk
    body = {
        "name": "Evening",
        "book_id": book,
        "template": "promo",
        "local_time": "10:00",
        "local_until": "20:00",
        "best_hour": True,
    }
    made = _start(client, tenant, body)
    assert made["best_hour"] is True
    planned = {m.phone: m.not_before for m in messages(rt, made["id"])}
    assert planned == {
        phone(0): utc(20, 14),  # 17:00 in Minsk, their hour
        phone(1): utc(20, 7),  # 10:00 in Minsk, the mailing's own
        phone(2): utc(20, 7),
    }


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"local_until": "14:00"}, "local_until"),
        ({"local_time": "14:00", "local_until": "11:00"}, "local_until"),
        ({"local_time": "14:00", "local_until": "14:00"}, "local_until"),
        ({"best_hour": True}, "best_hour"),
    ],
)
def test_windows_and_best_hour_are_checked_when_saved(rt, client, tenant, extra, field):
    template(rt, tenant["id"], name="promo", text="Скидка 10%")
    book = make_book(rt, tenant["id"], 1)
    body = {"name": "X", "book_id": book, "template": "promo", **extra}
    resp = client.post("/v1/campaigns", json=body, headers=tenant["headers"])
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_time"
    assert field in str(error)


def test_the_best_hour_needs_three_moments_and_ties_go_to_the_latest():
    at = [utc(1, 9), utc(2, 9)]
    assert modal_hour(at) is None
    assert modal_hour([*at, utc(3, 18)]) == 9
    assert modal_hour([utc(1, 9), utc(2, 18), utc(3, 9), utc(4, 18)]) == 18
    assert modal_hour([utc(1, 9) + timedelta(days=d) for d in range(3)]) == 9
