"""POST/GET /connectors/woocommerce/installations: the store owner sets the store up."""

from __future__ import annotations

from sqlalchemy import select

from relay.storage.models import Flow, Template, Tenant
from relay.tenancy.tenants import create_key
from shared.connector import get_context
from tests.connectors.woocommerce.helpers import CK, CS, install
from tests.support.factories import make_tenant

URL = "/connectors/woocommerce/installations"


def test_install_creates_the_installation_and_loads_the_woocommerce_flows(rt, client, tenant):
    resp = install(client, tenant, "HTTPS://Shop.Example.by:443")
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["account"] == "https://shop.example.by/"
    assert body["webhook_url"] == "http://relay.test/connectors/woocommerce/webhook"
    assert "webhook_secret" not in body and "consumer_secret" not in str(body)
    installation = get_context("woocommerce").store.get("woocommerce", "https://shop.example.by/")
    assert installation.tenant_id == tenant["id"]
    assert installation.secrets["consumer_key"] == CK
    with rt.session() as s:
        cart = s.scalars(
            select(Flow).where(Flow.tenant_id == tenant["id"], Flow.name == "cart-abandoned")
        ).one()
        names = set(s.scalars(select(Flow.name).where(Flow.tenant_id == tenant["id"])))
    assert (cart.delay_seconds, cart.category, cart.cancel_key) == (3600, "marketing", "cart.id")
    assert set(cart.cancel_on) == {"cart.recovered", "order.created"}
    assert {
        "order-processing",
        "order-completed",
        "order-on-hold",
        "order-cancelled",
        "order-refunded",
        "cart-abandoned",
    } <= names


def test_reinstall_updates_keys_but_keeps_edited_flows(rt, client, tenant):
    install(client, tenant, "https://shop.example.by")
    with rt.session() as s:
        flow = s.scalars(
            select(Flow).where(Flow.tenant_id == tenant["id"], Flow.name == "cart-abandoned")
        ).one()
        flow.delay_seconds = 1800  # the owner edited it
        s.commit()
    resp = install(client, tenant, "https://shop.example.by/", consumer_key="ck_new")
    assert resp.status_code == 200
    with rt.session() as s:
        assert (
            s.scalars(
                select(Flow.delay_seconds).where(
                    Flow.tenant_id == tenant["id"], Flow.name == "cart-abandoned"
                )
            ).one()
            == 1800
        )
    assert (
        get_context("woocommerce")
        .store.get("woocommerce", "https://shop.example.by/")
        .secrets["consumer_key"]
        == "ck_new"
    )


def test_secret_is_generated_and_shown_once_when_not_given(rt, client, tenant):
    resp = client.post(
        URL,
        json={"store_url": "shop.example.by", "consumer_key": CK, "consumer_secret": CS},
        headers=tenant["headers"],
    )
    secret = resp.get_json()["webhook_secret"]
    assert len(secret) >= 32
    again = client.post(
        URL,
        json={"store_url": "shop.example.by", "consumer_key": CK, "consumer_secret": CS},
        headers=tenant["headers"],
    )
    assert "webhook_secret" not in again.get_json()
    stored = get_context("woocommerce").store.get("woocommerce", "https://shop.example.by/")
    assert stored.secrets["webhook_secret"] == secret


def test_install_needs_an_admin_key(rt, client, tenant):
    assert client.post(URL, json={}).get_json()["error"]["code"] == "unauthorized"
    with rt.session() as s:
        _row, key = create_key(s, s.get(Tenant, tenant["id"]), ["events:write"])
        s.commit()
    resp = client.post(URL, json={}, headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"


def test_invalid_body_gets_field_errors(rt, client, tenant):
    resp = client.post(
        URL,
        json={
            "store_url": "ftp://shop",
            "consumer_key": "",
            "default_region": "XX",
            "settings": {"cart_delay_minutes": -1},
        },
        headers=tenant["headers"],
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert set(fields) == {
        "store_url",
        "consumer_key",
        "consumer_secret",
        "default_region",
        "settings",
    }
    resp = client.post(URL, data="not json", headers=tenant["headers"])
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_body"


def test_a_store_belongs_to_one_tenant(rt, client, tenant):
    install(client, tenant, "https://shop.example.by")
    other = make_tenant(rt, "shop-ru", "RU")
    resp = install(client, other, "https://shop.example.by/")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "store_taken"


def test_list_shows_the_installation_without_secrets(rt, client, tenant):
    install(client, tenant, "https://shop.example.by")
    body = client.get(URL, headers=tenant["headers"]).get_json()
    [shown] = body["installations"]
    assert shown["account"] == "https://shop.example.by/" and shown["status"] == "active"
    assert CS not in str(body) and "secret" not in str(shown.get("settings"))
    with rt.session() as s:
        assert (
            s.scalars(
                select(Template.sms_text)
                .where(Template.tenant_id == tenant["id"], Template.name == "order_on_hold")
                .order_by(Template.version.desc())
            )
            .first()
            .startswith("Заказ №{{ order.number }} ожидает")
        )
