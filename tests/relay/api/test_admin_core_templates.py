"""Templates: checked when saved, versioned, previewed; a message keeps the version it used."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.storage.models import AuditEntry, Message, SenderName, Template
from tests.support.factories import order_event

NOON = "2026-01-15T15:00:00+03:00"


def post(client, tenant, url, body, method="post"):  # type: ignore[no-untyped-def]
    return getattr(client, method)(url, json=body, headers=tenant["headers"])


def activate_sender(rt, tenant, channel, name):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        s.add(SenderName(tenant_id=tenant["id"], channel=channel, name=name, state="active"))
        s.commit()


def test_marketing_template_shows_footer_segments_and_cost(rt, client, tenant):
    resp = post(
        client,
        tenant,
        "/v1/templates",
        {
            "name": "promo",
            "category": "marketing",
            "sms_text": "Sale for {{ customer.name }}!",
            # the text does not name the shop: a justified soft finding (38-FZ content rules)
            "overrides": [{"rule": "no_sender", "justification": "sent under our registered name"}],
        },
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["version"], body["changed"]) == (1, True)
    [sms] = body["estimates"]
    assert sms["text"] == "Sale for Анна!\nОтказ: STOP"
    assert (sms["footer_appended"], sms["encoding"], sms["segments"]) == (True, "ucs2", 1)
    assert float(sms["cost"]) > 0 and sms["currency"]
    with rt.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "template.create"))
        assert entry.after["sms_text"] == "Sale for {{ customer.name }}!"
    dup = post(
        client, tenant, "/v1/templates", {"name": "promo", "category": "marketing", "sms_text": "x"}
    )
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "template_exists"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"sms_text": "Hi {{ customer.name "}, 422, "template_syntax_error", "sms_text"),
        ({"sms_text": "{{ ''.__class__.__mro__ }}"}, 422, "template_render_error", "sms_text"),
        ({"sms_text": "Code {{ promo_code }}"}, 422, "template_render_error", "sms_text"),
        ({"sms_text": "Hi", "sender": "NOPE"}, 422, "sender_not_registered", "sender"),
        ({"sms_text": None, "viber_text": None}, 422, "validation_error", "sms_text"),
        ({"sms_text": "x", "category": "spam"}, 422, "validation_error", "category"),
        ({"sms_text": "x", "name": "bad name/"}, 422, "validation_error", "name"),
        ({"viber_text": "x", "viber": {"ttl": 0}}, 422, "validation_error", "viber"),
        ({"viber_text": "x", "viber": {"colour": "red"}}, 422, "validation_error", "viber"),
        ({"viber_text": "x" * 1001}, 422, "template_too_long", "viber_text"),
    ],
)
def test_templates_that_cannot_be_sent_are_refused_when_saved(
    rt, client, tenant, body, status, code, field
):
    spec = {"name": "t1", "category": "transactional", **body}
    resp = post(client, tenant, "/v1/templates", spec)
    assert resp.status_code == status, resp.get_json()
    err = resp.get_json()["error"]
    assert err["code"] == code and field in err["fields"], err
    with rt.session() as s:
        assert s.scalar(select(Template.id).where(Template.name == "t1")) is None
        assert s.scalar(select(AuditEntry.id)) is None


def test_template_naming_its_own_data_passes_with_a_sample(client, tenant):
    resp = post(
        client,
        tenant,
        "/v1/templates",
        {
            "name": "code",
            "category": "transactional",
            "sms_text": "Code {{ promo_code }}",
            "sample": {"promo_code": "ABC123"},
        },
    )
    assert resp.status_code == 201
    assert resp.get_json()["estimates"][0]["text"] == "Code ABC123"
    assert "sample" not in resp.get_json()


def test_marketing_must_fit_the_footer_and_carry_opt_out_wording(client, tenant):
    long_text = "Ш" * 400  # 6 UCS-2 segments alone; with the footer 7
    tx = post(
        client,
        tenant,
        "/v1/templates",
        {"name": "long-tx", "category": "transactional", "sms_text": long_text},
    )
    assert tx.status_code == 201 and tx.get_json()["estimates"][0]["segments"] == 6
    mk = post(
        client,
        tenant,
        "/v1/templates",
        {"name": "long-mk", "category": "marketing", "sms_text": long_text},
    )
    assert mk.status_code == 422
    assert mk.get_json()["error"]["code"] == "template_too_long"
    assert "footer" in mk.get_json()["error"]["message"]
    with_stop = post(
        client,
        tenant,
        "/v1/templates",
        {
            "name": "own-stop",
            "category": "marketing",
            "sms_text": "Ш" * 390 + " STOP",
            "overrides": [{"rule": "no_sender", "justification": "sent under our registered name"}],
        },
    )
    assert with_stop.status_code == 201
    assert with_stop.get_json()["estimates"][0]["footer_appended"] is False

    client.patch("/v1/settings", json={"optout_footer": ""}, headers=tenant["headers"])
    bare = post(
        client,
        tenant,
        "/v1/templates",
        {"name": "bare", "category": "marketing", "sms_text": "Sale!"},
    )
    assert bare.status_code == 422 and bare.get_json()["error"]["code"] == "missing_optout"


def test_sender_must_be_active_for_every_channel_the_template_uses(rt, client, tenant):
    spec = {
        "name": "both",
        "category": "transactional",
        "sms_text": "Заказ {{ order.number }}",
        "viber_text": "Ваш заказ {{ order.number }} готов",
        "viber": {
            "image": "https://shop.example/i.png",
            "button": {"caption": "Open", "url": "https://shop.example/o"},
            "ttl": 3600,
        },
        "sender": "SHOP",
    }
    activate_sender(rt, tenant, "sms", "SHOP")
    half = post(client, tenant, "/v1/templates", spec)
    assert half.status_code == 422 and "viber" in half.get_json()["error"]["message"]
    activate_sender(rt, tenant, "viber", "SHOP")
    ok = post(client, tenant, "/v1/templates", spec)
    assert ok.status_code == 201
    assert [(e["channel"], e["segments"]) for e in ok.get_json()["estimates"]] == [
        ("sms", 1),
        ("viber", 1),
    ]
    assert ok.get_json()["viber"]["button"] == {"caption": "Open", "url": "https://shop.example/o"}


def test_versions_are_kept_and_each_message_records_the_one_it_used(rt, client, tenant):
    url = "/v1/templates/order_processing"
    v1 = client.get(url, headers=tenant["headers"]).get_json()
    assert v1["version"] == 1 and [v["version"] for v in v1["versions"]] == [1]
    first = order_event("v-1", "+375291234567", "processing", NOON)
    client.post("/v1/events", json=first, headers=tenant["headers"])

    put = post(
        client,
        tenant,
        url,
        {"category": "transactional", "sms_text": "Заказ {{ order.number }} в работе."},
        "put",
    )
    assert put.status_code == 200 and (put.get_json()["version"], put.get_json()["changed"]) == (
        2,
        True,
    )
    same = post(
        client,
        tenant,
        url,
        {"category": "transactional", "sms_text": "Заказ {{ order.number }} в работе."},
        "put",
    )
    assert (same.get_json()["version"], same.get_json()["changed"]) == (2, False)
    second = order_event("v-2", "+375291234567", "processing", NOON)
    client.post("/v1/events", json=second, headers=tenant["headers"])  # cache invalidated: v2 now

    with rt.session() as s:
        rows = s.execute(
            select(Message.text, Template.version)
            .join(Template, Template.id == Message.template_id)
            .order_by(Template.version)
        ).all()
        assert [(r.version, r.text) for r in rows] == [
            (1, "Заказ №727 принят. Сумма 29.35 BYN."),
            (2, "Заказ 727 в работе."),
        ]
        updates = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "template.update")))
        assert len(updates) == 1 and updates[0].before["version"] == 1
    listing = client.get(url, headers=tenant["headers"]).get_json()
    assert [v["version"] for v in listing["versions"]] == [2, 1]
    old = client.get(f"{url}?version=1", headers=tenant["headers"]).get_json()
    assert old["sms_text"].startswith("Заказ №{{ order.number }} принят")
    assert client.get(f"{url}?version=9", headers=tenant["headers"]).status_code == 404
    missing = post(
        client, tenant, "/v1/templates/ghost", {"category": "marketing", "sms_text": "x"}, "put"
    )
    assert missing.status_code == 404


def test_preview_renders_with_data_and_prices_a_number(client, tenant):
    resp = post(
        client,
        tenant,
        "/v1/templates/cart_reminder/preview",
        {
            "data": {"customer": {"name": "Bob"}, "cart": {"url": "https://s.by/c/1"}},
            "phone": "29 123-45-67",
        },
    )
    assert resp.status_code == 200
    [sms] = resp.get_json()["variants"]
    assert sms["text"] == "Bob, вы оставили товары в корзине: https://s.by/c/1\nОтказ: STOP"
    assert sms["segments"] == 1 and sms["encoding"] == "ucs2"
    bad_phone = post(client, tenant, "/v1/templates/cart_reminder/preview", {"phone": "12"})
    assert bad_phone.status_code == 422
    assert post(client, tenant, "/v1/templates/ghost/preview", {}).status_code == 404


def test_delete_is_refused_while_a_flow_uses_the_template(rt, client, tenant):
    used = client.delete("/v1/templates/cart_reminder", headers=tenant["headers"])
    assert used.status_code == 409 and used.get_json()["error"]["fields"]["name"] == [
        "cart-abandoned"
    ]
    assert client.delete("/v1/flows/cart-abandoned", headers=tenant["headers"]).status_code == 200
    gone = client.delete("/v1/templates/cart_reminder", headers=tenant["headers"])
    assert gone.status_code == 200  # the deleted template in GET's shape (its OpenAPI schema)
    assert [v["version"] for v in gone.get_json()["versions"]] == [1]
    assert client.get("/v1/templates/cart_reminder", headers=tenant["headers"]).status_code == 404
    with rt.session() as s:
        assert s.scalar(select(Template.id).where(Template.name == "cart_reminder")) is None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "template.delete"))
        assert entry.before["sms_text"].startswith("{{ customer.name or")


def test_template_list_pages_by_name(client, tenant):
    first = client.get("/v1/templates?limit=4", headers=tenant["headers"]).get_json()
    assert [t["name"] for t in first["items"]] == [
        "cart_reminder",
        "order_cancelled",
        "order_completed",
        "order_on_hold",
    ]
    rest = client.get(
        f"/v1/templates?cursor={first['next_cursor']}", headers=tenant["headers"]
    ).get_json()
    assert [t["name"] for t in rest["items"]] == ["order_processing", "order_refunded"]
    assert rest["next_cursor"] is None
