"""Clicks are personal data: an erasure removes them and the number's links (database and
Redis); a flood on a short link meets the rate limiter like any caller without a key."""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from relay.growth.tick import growth_tick
from relay.storage.models import Base, Click, Link
from tests.relay.api.test_campaigns_fixtures import consent, make_book, messages, phone, template


def _start(rt, client, tenant, text_):  # type: ignore[no-untyped-def]
    template(rt, tenant["id"], name="promo", text=text_)
    book = make_book(rt, tenant["id"], 2)
    consent(rt, tenant["id"], [phone(0), phone(1)])
    body = {"name": "Cart", "book_id": book, "template": "promo"}
    cid = client.post("/v1/campaigns", json=body, headers=tenant["headers"]).get_json()["id"]
    assert client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"]).status_code == 200
    return {m.phone: m.text.split("/l/")[1].split()[0] for m in messages(rt, cid)}


def test_erasure_removes_clicks_and_links_everywhere(rt, client, tenant):
    tokens = _start(
        rt,
        client,
        tenant,
        "Ваша корзина: https://shop.example.by/cart/{{ contact.name|replace(' ', '-') }}",
    )
    for token in tokens.values():
        assert client.get(f"/l/{token}").status_code == 302
    growth_tick(rt)
    erased, kept = tokens[phone(0)], tokens[phone(1)]
    resp = client.post("/v1/erasures", headers=tenant["headers"], json={"phone": phone(0)})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["clicks_erased"] == 1 and resp.get_json()["links_erased"] == 1
    assert "link_tokens" not in resp.get_json()
    needles = (erased, "Contact-0")
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                dumped = json.dumps([str(v) for v in row], ensure_ascii=False)
                assert not any(n in dumped for n in needles), (table.name, dumped)
    assert rt.redis.get(f"relay:link:{erased}") is None
    assert client.get(f"/l/{erased}").status_code == 404
    assert client.get(f"/l/{kept}").status_code == 302  # the other recipient's link lives on
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Link)) == 1
        assert s.scalar(select(func.count()).select_from(Click)) == 1


def test_a_flood_on_one_link_is_rate_limited_and_counted_once_a_minute(rt, client, tenant):
    tokens = _start(rt, client, tenant, "Скидка: https://shop.example.by/x")
    rt.config["RATE_LIMIT_PER_IP"] = "5/minute"
    token = tokens[phone(0)]
    answers = [client.get(f"/l/{token}").status_code for _ in range(8)]
    assert answers == [302] * 5 + [429] * 3
    assert growth_tick(rt).clicks == 1


def test_a_link_redis_forgot_is_read_from_the_database_and_put_back(rt, client, tenant):
    tokens = _start(rt, client, tenant, "Скидка: https://shop.example.by/x")
    token = tokens[phone(0)]
    rt.redis.delete(f"relay:link:{token}")  # older than its days on Redis
    resp = client.get(f"/l/{token}")
    assert resp.status_code == 302 and resp.headers["Location"] == "https://shop.example.by/x"
    assert rt.redis.ttl(f"relay:link:{token}") > 0
    assert client.get(f"/l/{token}").status_code == 302
    assert growth_tick(rt).clicks == 1  # the same minute: one click
