"""Shared test data: a REST v3 order as WooCommerce delivers it, signing, installing."""

from __future__ import annotations

import copy
import json
from typing import Any

from connectors.woocommerce.signature import sign

SECRET = "wh-secret-0123456789"
CK = "ck_4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
CS = "cs_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"

# The "Retrieve an order" example of the REST API v3 docs (woocommerce-rest-api-docs,
# wp-api-v3/_orders.md, order 727), moved to a Belarusian store: BYN, a Minsk customer.
ORDER_727: dict[str, Any] = {
    "id": 727,
    "parent_id": 0,
    "number": "727",
    "order_key": "wc_order_58d2d042d1d",
    "created_via": "checkout",
    "version": "9.4.0",
    "status": "processing",
    "currency": "BYN",
    "date_created": "2026-01-15T14:50:02",
    "date_created_gmt": "2026-01-15T11:50:02",
    "date_modified": "2026-01-15T14:50:08",
    "date_modified_gmt": "2026-01-15T11:50:08",
    "discount_total": "0.00",
    "discount_tax": "0.00",
    "shipping_total": "10.00",
    "shipping_tax": "0.00",
    "cart_tax": "1.35",
    "total": "29.35",
    "total_tax": "1.35",
    "prices_include_tax": False,
    "customer_id": 0,
    "customer_ip_address": "203.0.113.7",
    "customer_user_agent": "Mozilla/5.0",
    "customer_note": "",
    "billing": {
        "first_name": "Анна",
        "last_name": "Иванова",
        "company": "",
        "address_1": "пр. Независимости, 4",
        "address_2": "",
        "city": "Минск",
        "state": "",
        "postcode": "220030",
        "country": "BY",
        "email": "anna@example.by",
        "phone": "8 029 123-45-67",
    },
    "shipping": {
        "first_name": "Анна",
        "last_name": "Иванова",
        "company": "",
        "address_1": "пр. Независимости, 4",
        "address_2": "",
        "city": "Минск",
        "state": "",
        "postcode": "220030",
        "country": "BY",
        "phone": "",
    },
    "payment_method": "cod",
    "payment_method_title": "Оплата при получении",
    "transaction_id": "",
    "date_paid": None,
    "date_paid_gmt": None,
    "date_completed": None,
    "date_completed_gmt": None,
    "cart_hash": "5040ce7273261e31d8bcf79f9be3d279",
    "meta_data": [
        {"id": 13106, "key": "_download_permissions_granted", "value": "yes"},
        {"id": 13107, "key": "_wc_other/relay-sms/marketing-consent", "value": "1"},
        {"id": 13108, "key": "_relay_sms_cart_id", "value": "c-91"},
    ],
    "line_items": [
        {
            "id": 315,
            "name": "Woo Single #1",
            "product_id": 93,
            "variation_id": 0,
            "quantity": 2,
            "tax_class": "",
            "subtotal": "6.00",
            "subtotal_tax": "0.45",
            "total": "6.00",
            "total_tax": "0.45",
            "taxes": [{"id": 75, "total": "0.45", "subtotal": "0.45"}],
            "meta_data": [],
            "sku": "",
            "price": 3,
        },
        {
            "id": 316,
            "name": "Ship Your Idea &ndash; Color: Black, Size: M Test",
            "product_id": 22,
            "variation_id": 23,
            "quantity": 1,
            "tax_class": "",
            "subtotal": "12.00",
            "subtotal_tax": "0.90",
            "total": "12.00",
            "total_tax": "0.90",
            "taxes": [{"id": 75, "total": "0.9", "subtotal": "0.9"}],
            "meta_data": [{"id": 2095, "key": "pa_color", "value": "black"}],
            "sku": "Bar3",
            "price": 12,
        },
    ],
    "tax_lines": [],
    "shipping_lines": [
        {
            "id": 317,
            "method_title": "Курьер",
            "method_id": "flat_rate",
            "total": "10.00",
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
        }
    ],
    "fee_lines": [],
    "coupon_lines": [],
    "refunds": [],
    "_links": {
        "self": [{"href": "https://shop.example.by/wp-json/wc/v3/orders/727"}],
        "collection": [{"href": "https://shop.example.by/wp-json/wc/v3/orders"}],
    },
}


def order(**changes: Any) -> dict[str, Any]:
    """ORDER_727 with top-level changes; `billing={…}` is merged into the billing block."""
    body = copy.deepcopy(ORDER_727)
    billing = changes.pop("billing", None)
    body.update(changes)
    if billing:
        body["billing"].update(billing)
    return body


def php_json(body: Any) -> bytes:
    """The bytes PHP's wp_json_encode makes: compact, non-ASCII as \\uXXXX, "/" as "\\/"."""
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def headers(
    source: str,
    topic: str,
    body: bytes,
    secret: str = SECRET,
    delivery_id: str = "d41d8cd98f00b204e9800998ecf8427e",
    webhook_id: str = "12",
    signature: str | None = None,
) -> dict[str, str]:
    """The headers WC_Webhook::deliver sends."""
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signature if signature is not None else sign(body, secret),
        "X-WC-Webhook-ID": webhook_id,
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }


def deliver(client: Any, source: str, topic: str, body: dict[str, Any], **kw: Any) -> Any:
    """POST one signed delivery to the connector; returns the test client's response."""
    raw = php_json(body)
    return client.post(
        "/connectors/woocommerce/webhook", data=raw, headers=headers(source, topic, raw, **kw)
    )


def install(client: Any, tenant: dict[str, Any], store_url: str, **extra: Any) -> Any:
    """POST /connectors/woocommerce/installations as the tenant's admin key."""
    body = {
        "store_url": store_url,
        "webhook_secret": SECRET,
        "consumer_key": CK,
        "consumer_secret": CS,
        **extra,
    }
    return client.post(
        "/connectors/woocommerce/installations", json=body, headers=tenant["headers"]
    )
