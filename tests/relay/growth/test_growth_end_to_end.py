"""Growth end to end: an A/B mailing with short links, clicks, WooCommerce orders and the
per-variant report; and a mailing released at 11:00 on each recipient's own clock.

Runs on the default SQLite + embedded Redis and, with RELAY_TEST_DATABASE_URL and
RELAY_TEST_REDIS_URL, on PostgreSQL and a real Redis server.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from relay.growth.tick import growth_tick
from relay.storage.models import Attribution, Click, Link, Message, Template
from shared.segments import count_segments
from tests.relay.api.test_campaigns_fixtures import (
    consent,
    make_book,
    messages,
    phone,
    release_scheduled,
    template,
)
from tests.support.factories import make_tenant, order_event, run_worker, sandbox_sends

LINK = re.compile(r"http://relay\.test/l/([A-Za-z0-9_-]+)")
TEXT_A = "Скидка 10% на всё: https://shop.example.by/sale?from=sms до воскресенья."
TEXT_B = "Только сегодня −20%! https://shop.example.by/sale?from=sms"


def _variant_of(rt, cid):  # type: ignore[no-untyped-def]
    """message id → template name, and phone → message, for the campaign."""
    with rt.session() as s:
        rows = s.execute(
            select(Message.id, Message.phone, Message.text, Template.name)
            .join(Template, Template.id == Message.template_id)
            .where(Message.campaign_id == cid)
        ).all()
    return {r.id: r for r in rows}


def _order(event_id: str, who: str, order_id: str, total: str, at: datetime) -> dict:  # type: ignore[type-arg]
    event = order_event(event_id, who, "processing", at.isoformat())
    event["order"].update({"id": order_id, "number": order_id, "total": total})
    return event


def test_ab_mailing_clicks_orders_and_the_report_per_variant(rt, client, tenant, clock):
    template(rt, tenant["id"], name="promo_a", text=TEXT_A)
    template(rt, tenant["id"], name="promo_b", text=TEXT_B)
    book = make_book(rt, tenant["id"], 40)
    consent(rt, tenant["id"], [phone(i) for i in range(40)])
    body = {
        "name": "Sale A/B",
        "book_id": book,
        "template": "promo_a",
        "variants": ["promo_a", "promo_b"],
    }
    made = client.post("/v1/campaigns", json=body, headers=tenant["headers"])
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    assert made.get_json()["variants"] == ["promo_a", "promo_b"]
    started = client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"])
    assert started.status_code == 200, started.get_json()
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 40

    rows = _variant_of(rt, cid)
    by_variant: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
    for r in rows.values():
        by_variant[r.name].append(r)
    # the split is random but reproducible, and nobody is left out
    assert {k: len(v) for k, v in by_variant.items()}.keys() == {"promo_a", "promo_b"}
    assert sum(len(v) for v in by_variant.values()) == 40
    assert min(len(v) for v in by_variant.values()) >= 10
    # every link became a per-recipient short link, and the text sent carries it
    tokens = {r.id: LINK.search(r.text).group(1) for r in rows.values()}  # type: ignore[union-attr]
    assert len(set(tokens.values())) == 40
    assert all("shop.example.by" not in s["text"] for s in sandbox_sends(rt))
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Link)) == 40
        # the short link's length is counted in the segments, on the text as sent
        counted = s.execute(select(Message.text, Message.segments)).all()
    assert all(n == count_segments(text).segments for text, n in counted)

    a, b = (
        sorted(by_variant["promo_a"], key=lambda r: r.phone),
        sorted(by_variant["promo_b"], key=lambda r: r.phone),
    )
    clicked_a, clicked_b = a[:3], b[:2]
    for r in clicked_a + clicked_b:
        resp = client.get(f"/l/{tokens[r.id]}", headers={"User-Agent": "Mozilla/5.0 (Android 14)"})
        assert resp.status_code == 302
        assert resp.headers["Location"] == "https://shop.example.by/sale?from=sms"
    # a flood on one link from one client is one click that minute; a minute later, another
    for _ in range(5):
        assert client.get(f"/l/{tokens[a[0].id]}").status_code == 302
    clock.advance(minutes=2)
    assert client.get(f"/l/{tokens[a[0].id]}").status_code == 302
    report = growth_tick(rt)
    assert report.clicks == 6
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Click)) == 6

    # WooCommerce orders: two from A's clickers, one from B's, one from someone who only got
    # the message (credited after delivery), one from a stranger (credited to nothing)
    clock.advance(hours=2)
    at = clock.now
    events = [
        _order("woo-1", a[0].phone, "1001", "100.00", at),
        _order("woo-2", a[1].phone, "1002", "50.50", at),
        _order("woo-3", b[0].phone, "1003", "70.00", at),
        _order("woo-4", b[5].phone, "1004", "30.00", at),
        _order("woo-5", "+375297777777", "1005", "999.00", at),
        # the same order again with another status is still one order
        {
            **_order("woo-1b", a[0].phone, "1001", "100.00", at),
            "order": {
                **_order("x", a[0].phone, "1001", "100.00", at)["order"],
                "status": "completed",
            },
        },
    ]
    for event in events:
        resp = client.post("/v1/events", json=event, headers=tenant["headers"])
        assert resp.status_code == 202, resp.get_json()
    clock.advance(minutes=1)  # past the scan's settling time
    assert growth_tick(rt).attributed == 4
    with rt.session() as s:
        vias = dict(s.execute(select(Attribution.order_key, Attribution.via)).all())
    assert sorted(vias.values()) == ["click", "click", "click", "delivery"]

    result = client.get(f"/v1/campaigns/{cid}/results", headers=tenant["headers"]).get_json()
    with rt.session() as s:
        cost = dict(
            s.execute(
                select(Template.name, func.sum(Message.cost))
                .join(Template, Template.id == Message.template_id)
                .where(Message.campaign_id == cid)
                .group_by(Template.name)
            ).all()
        )
    va, vb = result["variants"]
    assert (va["variant"], va["template"], vb["variant"], vb["template"]) == (
        "A", "promo_a", "B", "promo_b")  # fmt: skip
    assert (va["sent"], vb["sent"]) == (len(a), len(b))
    assert (va["delivered"], vb["delivered"]) == (len(a), len(b))
    assert (va["clicked"], va["clicks"], vb["clicked"], vb["clicks"]) == (3, 4, 2, 2)
    assert (va["orders"], vb["orders"]) == (2, 2)
    assert (va["revenue"], vb["revenue"]) == ("150.50", "100.00")
    assert Decimal(va["cost"]) == Decimal(cost["promo_a"]).quantize(Decimal("0.01"))
    assert Decimal(vb["cost"]) == Decimal(cost["promo_b"]).quantize(Decimal("0.01"))
    assert va["click_rate"]["low"] < 3 / len(a) < va["click_rate"]["high"]
    assert result["total"]["orders"] == 4 and result["total"]["revenue"] == "250.50"
    assert result["total"]["revenue_per_1000"] == str(
        (Decimal("250.50") * 1000 / 40).quantize(Decimal("0.01"))
    )


def test_send_at_eleven_local_releases_each_recipient_at_their_own_eleven(rt, client, clock):
    clock.set(datetime(2026, 1, 15, 0, 0, tzinfo=UTC))
    shop = make_tenant(rt, "shop-ru", "RU", "Europe/Moscow")
    numbers = {
        "+74012123456": datetime(2026, 1, 15, 9, 0, tzinfo=UTC),  # Kaliningrad, UTC+2
        "+74951234567": datetime(2026, 1, 15, 8, 0, tzinfo=UTC),  # Moscow, UTC+3
        "+73832123456": datetime(2026, 1, 15, 4, 0, tzinfo=UTC),  # Novosibirsk, UTC+7
        "+74232123456": datetime(2026, 1, 15, 1, 0, tzinfo=UTC),  # Vladivostok, UTC+10
        # a mobile with 16 candidate zones: strict, 11:00 in the westernmost (UTC+2)
        "+79161234567": datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
    }
    template(rt, shop["id"], name="promo", text="Магазин: скидка 10% сегодня.")
    book = make_book(rt, shop["id"], 0, name="ru")
    from sqlalchemy import insert

    from relay.storage.models import Contact

    with rt.session() as s:
        s.execute(
            insert(Contact),
            [{"book_id": book, "tenant_id": shop["id"], "phone": n, "name": "К"} for n in numbers],
        )
        s.commit()
    consent(rt, shop["id"], list(numbers))
    body = {"name": "Morning", "book_id": book, "template": "promo", "local_time": "11:00"}
    made = client.post("/v1/campaigns", json=body, headers=shop["headers"])
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    assert made.get_json()["local_time"] == "11:00"
    assert client.post(f"/v1/campaigns/{cid}/start", headers=shop["headers"]).status_code == 200
    planned = {m.phone: (m.status, m.not_before) for m in messages(rt, cid)}
    assert planned == {n: ("scheduled", at) for n, at in numbers.items()}

    # the clock runs through the night: each goes at its own 11:00, not a minute before
    for moment in sorted(set(numbers.values())):
        clock.set(moment - timedelta(minutes=1))
        release_scheduled(rt)
        run_worker(rt)
        before = {s["phone"] for s in sandbox_sends(rt)}
        assert before == {n for n, at in numbers.items() if at < moment}
        clock.set(moment)
        release_scheduled(rt)
        run_worker(rt)
        after = {s["phone"] for s in sandbox_sends(rt)}
        assert after == {n for n, at in numbers.items() if at <= moment}


def test_bad_tokens_get_a_plain_404_page_and_expired_links_stop(rt, client, tenant, clock):
    for token in ("nope", "A" * 12, "a/b", "x" * 300):
        resp = client.get(f"/l/{token}")
        assert resp.status_code == 404
        assert resp.mimetype == "text/html"
    template(rt, tenant["id"], name="promo", text="Скидка: https://shop.example.by/x")
    book = make_book(rt, tenant["id"], 1)
    consent(rt, tenant["id"], [phone(0)])
    body = {"name": "One", "book_id": book, "template": "promo"}
    cid = client.post("/v1/campaigns", json=body, headers=tenant["headers"]).get_json()["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"])
    (msg,) = messages(rt, cid)
    token = LINK.search(msg.text).group(1)  # type: ignore[union-attr]
    # the target comes from the link row only: nothing in the request changes it
    resp = client.get(f"/l/{token}?next=https://evil.example/", headers={"Host": "evil.example"})
    assert resp.headers["Location"] == "https://shop.example.by/x"
    clock.advance(days=91)
    rt.redis.delete(f"relay:link:{token}")  # Redis keeps a link only its first days
    assert client.get(f"/l/{token}").status_code == 404


def test_links_that_are_not_http_are_refused_when_the_template_is_saved(rt, client, tenant):
    for text in ("Скидка: javascript://alert(1) Отказ: STOP", "Скидка ftp://shop.by/x Отказ: STOP"):
        resp = client.post(
            "/v1/templates",
            json={"name": "bad", "category": "marketing", "sms_text": text},
            headers=tenant["headers"],
        )
        assert resp.status_code == 422, resp.get_json()
        assert resp.get_json()["error"]["code"] == "invalid_link"


def test_tracking_off_keeps_links_as_written(rt, client, clock):
    shop = make_tenant(rt, "shop-off", "BY", settings={"tracking": False})
    template(rt, shop["id"], name="promo", text="Скидка: https://shop.example.by/x")
    book = make_book(rt, shop["id"], 2)
    consent(rt, shop["id"], [phone(0), phone(1)])
    body = {"name": "Plain", "book_id": book, "template": "promo"}
    cid = client.post("/v1/campaigns", json=body, headers=shop["headers"]).get_json()["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=shop["headers"])
    assert all("https://shop.example.by/x" in m.text for m in messages(rt, cid))
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Link)) == 0
