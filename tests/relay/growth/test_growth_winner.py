"""An A/B test on a share of the book, then the winner to everyone else, once."""

from __future__ import annotations

from collections import Counter

from relay.storage.models import Template
from tests.relay.api.test_campaigns_fixtures import consent, make_book, messages, phone, template


def test_the_winner_goes_to_the_rest_of_the_book_and_only_once(rt, client, tenant):
    template(rt, tenant["id"], name="promo_a", text="Скидка 10% https://shop.example.by/a")
    template(rt, tenant["id"], name="promo_b", text="Скидка 20% https://shop.example.by/b")
    book = make_book(rt, tenant["id"], 100)
    consent(rt, tenant["id"], [phone(i) for i in range(100)])
    body = {
        "name": "Test 20%",
        "book_id": book,
        "template": "promo_a",
        "variants": ["promo_a", "promo_b"],
        "test_share": 20,
    }
    cid = client.post("/v1/campaigns", json=body, headers=tenant["headers"]).get_json()["id"]
    assert client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"]).status_code == 200
    test = messages(rt, cid)
    assert 8 <= len(test) <= 35  # about a fifth, chosen by hash
    resp = client.post(
        f"/v1/campaigns/{cid}/winner", json={"template": "promo_b"}, headers=tenant["headers"]
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["winner"] == "promo_b"
    everyone = messages(rt, cid)
    assert sorted(m.phone for m in everyone) == sorted(phone(i) for i in range(100))
    rest = [m for m in everyone if m.id not in {t.id for t in test}]
    with rt.session() as s:
        names = {t.id: t.name for t in s.query(Template).all()}
    assert Counter(names[m.template_id] for m in rest) == {"promo_b": 100 - len(test)}
    again = client.post(
        f"/v1/campaigns/{cid}/winner", json={"template": "promo_a"}, headers=tenant["headers"]
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "winner_chosen"
    results = client.get(f"/v1/campaigns/{cid}/results", headers=tenant["headers"]).get_json()
    assert results["winner"] == "promo_b" and results["test_share"] == 20
    assert sum(v["messages"] for v in results["variants"]) == 100


def test_variants_are_checked_when_the_campaign_is_saved(rt, client, tenant):
    template(rt, tenant["id"], name="promo_a", text="Скидка 10%")
    book = make_book(rt, tenant["id"], 1)
    base = {"name": "X", "book_id": book, "template": "promo_a"}
    cases = [
        ({"variants": ["promo_a", "promo_a"]}, "invalid_variants"),
        ({"variants": ["promo_a", "nope"]}, "template_not_found"),
        ({"variants": ["other", "nope"]}, "invalid_variants"),
        ({"test_share": 20}, "invalid_variants"),
        ({"variants": ["promo_a", "b", "c", "d", "e"]}, "validation_error"),
        ({"local_time": "25:00"}, "validation_error"),
    ]
    for extra, code in cases:
        resp = client.post("/v1/campaigns", json={**base, **extra}, headers=tenant["headers"])
        assert resp.status_code in (404, 422), (extra, resp.get_json())
        assert resp.get_json()["error"]["code"] == code, extra


def test_flows_report_orders_credited_after_delivery(rt, client, tenant, clock):
    from relay.growth.tick import growth_tick
    from tests.support.factories import run_worker

    cart = {
        "event_id": "cart-1",
        "type": "cart.abandoned",
        "occurred_at": clock.now.isoformat(),
        "source": {"platform": "woocommerce", "account": "shop.example.by"},
        "customer": {"phone": phone(3), "name": "Анна"},
        "cart": {"id": "c-1", "total": "54.00", "currency": "BYN",
                 "url": "https://shop.example.by/cart/c-1"},
    }  # fmt: skip
    consent(rt, tenant["id"], [phone(3)])
    resp = client.post("/v1/events", json=cart, headers=tenant["headers"])
    assert resp.status_code == 202, resp.get_json()
    clock.advance(hours=3)  # past the abandoned-cart flow's delay
    from tests.relay.api.test_campaigns_fixtures import release_scheduled

    release_scheduled(rt)
    run_worker(rt)
    back = {**cart, "event_id": "cart-1-back", "type": "cart.recovered",
            "occurred_at": (clock.now).isoformat()}  # fmt: skip
    assert client.post("/v1/events", json=back, headers=tenant["headers"]).status_code == 202
    clock.advance(minutes=1)
    growth_tick(rt)
    page = client.get("/v1/reports/flows", headers=tenant["headers"]).get_json()
    assert page["next_cursor"] is None
    sent = [f for f in page["items"] if f["sent"]]
    assert sent and sent[0]["carts_recovered"] == 1 and sent[0]["revenue"] == "54.00"
