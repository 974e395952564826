"""The pure parts: store URLs, signatures, OAuth signing, Retry-After, order mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.woocommerce import oauth1
from connectors.woocommerce.mapping import NotAnOrder, Seen, plan_delivery
from connectors.woocommerce.rest import retry_after_seconds
from connectors.woocommerce.signature import is_ping, sign, verify
from connectors.woocommerce.stores import normalise_store_url, store_slug
from tests.connectors.woocommerce.helpers import order

ACCOUNT = "https://shop.example.by/"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shop.example.by", "https://shop.example.by/"),
        ("HTTPS://Shop.Example.BY:443/", "https://shop.example.by/"),
        ("http://shop.example.by:8080/en", "http://shop.example.by:8080/en/"),
        ("https://магазин.бел/?x=1#top", "https://xn--80aairftm.xn--90ais/"),
    ],
)
def test_store_urls_normalise_like_the_webhook_source(raw, expected):
    assert normalise_store_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "ftp://shop.by", "https://user:pw@shop.by/", "https://", None, "https://shop.by:99999/"],
)
def test_bad_store_urls_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_store_url(raw)


def test_slug_is_short_and_unique():
    assert store_slug("https://shop.example.by/en/") == "shop.example.by-en"
    long = "https://shop.example.by/" + "x" * 100 + "/"
    assert len(store_slug(long)) == 60 and store_slug(long) != store_slug(long[:-1] + "y/")


def test_signature_is_base64_hmac_sha256_of_the_bytes():
    # echo -n '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64
    assert sign(b'{"id":1}', "secret") == "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="
    assert verify(b'{"id":1}', " A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc= ", "secret")
    assert not verify(b'{"id": 1}', sign(b'{"id":1}', "secret"), "secret")
    assert not verify(b'{"id":1}', None, "secret") and not verify(b'{"id":1}', "x", "")


def test_ping_is_only_the_unsigned_form_body():
    assert is_ping(b"webhook_id=12", False, "")
    assert not is_ping(b"webhook_id=12", True, "")
    assert not is_ping(b"webhook_id=12&x=1", False, "")
    assert not is_ping(b'{"webhook_id":12}', False, "")


def test_oauth_signature_follows_rfc5849():
    params = {
        "type": "internal",
        "oauth_consumer_key": "ck_1",
        "oauth_timestamp": "1700000000",
        "oauth_nonce": "abc",
        "oauth_signature_method": "HMAC-SHA256",
    }
    base = oauth1.base_string("get", "http://shop.by/wp-json/wc/v3/orders/1/notes?x=1", params)
    assert base == (
        "GET&http%3A%2F%2Fshop.by%2Fwp-json%2Fwc%2Fv3%2Forders%2F1%2Fnotes&"
        "oauth_consumer_key%3Dck_1%26oauth_nonce%3Dabc%26oauth_signature_method%3D"
        "HMAC-SHA256%26oauth_timestamp%3D1700000000%26type%3Dinternal"
    )
    signed = oauth1.signed_params(
        "GET", "http://shop.by/a", "ck_1", "cs_1", {"q": "a b"}, timestamp=1, nonce="n"
    )
    assert signed["oauth_signature"] == oauth1.signature(
        "GET",
        "http://shop.by/a",
        {k: v for k, v in signed.items() if k != "oauth_signature"},
        "cs_1",
    )


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Thu, 15 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_mapping_keeps_bad_optional_fields_out_and_uses_the_region():
    body = order(currency="rubles", billing={"email": "not-an-email", "state": "hm"})
    plan = plan_delivery("order.updated", body, ACCOUNT, None)
    [event] = plan.events
    assert event.customer.email is None and event.customer.region == "BY-HM"
    assert event.order.currency is None and event.order.status == "processing"
    assert event.customer.name == "Анна Иванова"
    assert event.data["items"][1]["name"] == "Ship Your Idea – Color: Black, Size: M Test"
    assert event.data["marketing_consent"] is True
    assert plan.seen == Seen("processing", "2026-01-15T11:50:08Z")


def test_mapping_refuses_bodies_that_are_not_orders():
    for body in ({}, {"id": None}, {"id": True}, {"id": "1 2"}):
        with pytest.raises(NotAnOrder):
            plan_delivery("order.updated", body, ACCOUNT, None)


def test_wc_prefixed_custom_status_and_missing_dates():
    body = order(status="wc-shipped", date_modified_gmt=None)
    plan = plan_delivery("order.updated", body, ACCOUNT, Seen("processing", "2026-01-15T11:00Z"))
    [event] = plan.events
    assert (event.order.status, event.order.previous_status) == ("shipped", "processing")
    assert event.event_id == "woo-shop.example.by-727-shipped"
