"""The mailing page shows clicks, orders, revenue and cost, and the A/B variants with their
intervals; the owner sends the winner to the rest of the book from there."""

from __future__ import annotations

from relay.growth.tick import growth_tick
from relay.storage.models import Message
from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.relay.api.test_campaigns_fixtures import consent, make_book, phone, template

OWNER = "+375291234567"


def test_results_and_the_winner_on_the_mailing_page(rt, client, tenant):
    add_user(rt, tenant["id"], OWNER, "owner")
    template(rt, tenant["id"], name="promo_a", text="Скидка 10% https://shop.example.by/a")
    template(rt, tenant["id"], name="promo_b", text="Скидка 20% https://shop.example.by/b")
    book = make_book(rt, tenant["id"], 60)
    consent(rt, tenant["id"], [phone(i) for i in range(60)])
    body = {
        "name": "AB",
        "book_id": book,
        "template": "promo_a",
        "variants": ["promo_a", "promo_b"],
        "test_share": 50,
    }
    cid = client.post("/v1/campaigns", json=body, headers=tenant["headers"]).get_json()["id"]
    assert client.post(f"/v1/campaigns/{cid}/start", headers=tenant["headers"]).status_code == 200
    with rt.session() as s:
        one = s.query(Message).filter(Message.campaign_id == cid).first()
        token = one.text.rsplit("/l/", 1)[1].split()[0]
    assert client.get(f"/l/{token}").status_code == 302
    growth_tick(rt)

    sign_in(client, OWNER)
    page = text(client.get(f"/cabinet/mailings/{cid}"))
    assert "Результаты" in page and "Доля переходов" in page
    assert "promo_a" in page and "promo_b" in page
    resp = post(client, f"/cabinet/mailings/{cid}/winner", {"template": "promo_b"})
    assert resp.status_code == 302
    with rt.session() as s:
        assert s.query(Message).filter(Message.campaign_id == cid).count() == 60
    page = text(client.get(f"/cabinet/mailings/{cid}"))
    assert "победитель" in page or "winner" in page
