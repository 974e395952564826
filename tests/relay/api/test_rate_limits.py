"""Rate limits (docs/security.md, 'Rate limits'): per key, per address without a key, per store
or gateway for webhooks; 429 in the one error shape with Retry-After; health checks exempt; a
tenant whose limit the operator raised passes where the default refuses."""

from __future__ import annotations

import pytest

from tests.support.factories import make_tenant

OPERATOR = {"Authorization": "Bearer op-secret"}


@pytest.fixture
def limited(rt):  # type: ignore[no-untyped-def]
    """Small limits (per minute, so a slow machine cannot slip into the next window)."""
    rt.config.update(
        ADMIN_TOKEN="op-secret",
        RATE_LIMIT_PER_KEY="5/minute",
        RATE_LIMIT_PER_IP="3/minute",
        RATE_LIMIT_WEBHOOK="8/minute",
    )
    return rt


def _statuses(client, path, n, **kwargs):  # type: ignore[no-untyped-def]
    return [client.get(path, **kwargs).status_code for _ in range(n)]


def test_a_key_over_its_limit_gets_429_with_retry_after_and_another_key_does_not(
    limited, client, tenant
):
    other = make_tenant(limited, "other-shop", "BY")
    assert _statuses(client, "/v1/templates", 5, headers=tenant["headers"]) == [200] * 5
    refused = client.get("/v1/templates", headers=tenant["headers"])
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_requests" and "5 per 1 minute" in error["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # every route shares the key's bucket
    assert client.get("/v1/settings", headers=tenant["headers"]).status_code == 429
    assert _statuses(client, "/v1/templates", 5, headers=other["headers"]) == [200] * 5
    assert client.get("/healthz").status_code == 200  # exempt, however often
    assert _statuses(client, "/healthz", 10) == [200] * 10


def test_without_a_key_the_address_is_limited(limited, client, tenant):
    assert _statuses(client, "/v1/templates", 3) == [401] * 3
    refused = client.get("/v1/templates")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    wrong_key = {"Authorization": "Bearer not-a-key"}
    assert client.get("/v1/templates", headers=wrong_key).status_code == 429  # same address
    other_address = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/v1/templates", environ_base=other_address).status_code == 401
    assert client.get("/v1/templates", headers=tenant["headers"]).status_code == 200


def test_a_tenant_with_a_raised_limit_passes(limited, client, tenant):
    resp = client.patch(
        f"/v1/tenants/{tenant['id']}",
        headers=OPERATOR,
        json={"settings": {"api_rate_limit": "50/minute"}},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _statuses(client, "/v1/templates", 20, headers=tenant["headers"]) == [200] * 20
    assert client.get("/v1/settings", headers=tenant["headers"]).get_json()["api_rate_limit"] == (
        "50/minute"
    )
    # a tenant cannot raise its own
    resp = client.patch(
        "/v1/settings", headers=tenant["headers"], json={"api_rate_limit": "1000/second"}
    )
    assert resp.status_code == 422
    bad = client.patch(
        f"/v1/tenants/{tenant['id']}", headers=OPERATOR, json={"settings": {"api_rate_limit": "x"}}
    )
    assert bad.status_code == 422


def test_webhooks_are_limited_per_gateway_or_store_with_their_own_generous_limit(limited, client):
    # 8 per minute here (500/second by default): above the per-address limit of 3
    hits = [
        client.post("/callbacks/sandbox/tok/dlr", data={"a": "1"}).status_code for _ in range(8)
    ]
    assert 429 not in hits and all(code < 500 for code in hits)
    assert client.post("/callbacks/sandbox/tok/dlr", data={"a": "1"}).status_code == 429
    # another gateway, and a store's webhooks, have buckets of their own
    assert client.post("/callbacks/smsru/tok/dlr", data={"a": "1"}).status_code != 429
    store = {"X-WC-Webhook-Source": "https://shop.example.by/"}
    resp = client.post("/connectors/woocommerce/webhook", headers=store, data=b"{}")
    assert resp.status_code != 429
