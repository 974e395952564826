"""Operator API: tenants, their keys, gateway accounts, each change in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.storage.models import ApiKey, AuditEntry, Flow, Provider, Template, TenantProvider
from tests.support.factories import order_event

OP = {"Authorization": "Bearer op-secret"}
NOON = "2026-01-15T15:00:00+03:00"


@pytest.fixture
def operator(rt):  # type: ignore[no-untyped-def]
    rt.config["ADMIN_TOKEN"] = "op-secret"
    return OP


def audit_rows(rt, action=None):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return list(s.scalars(stmt))


def test_operator_creates_tenant_with_default_flows_and_a_working_key(rt, client, operator):
    resp = client.post(
        "/v1/tenants",
        json={"name": "kz-shop", "region": "KZ", "settings": {"frequency_cap": 3}},
        headers=operator,
    )
    assert resp.status_code == 201
    tenant = resp.get_json()
    assert (tenant["region"], tenant["timezone"], tenant["status"]) == (
        "KZ",
        "Asia/Almaty",
        "active",
    )
    assert tenant["settings"] == {"frequency_cap": 3}
    with rt.session() as s:
        flows = set(s.scalars(select(Flow.name).where(Flow.tenant_id == tenant["id"])))
        assert "order-processing" in flows and "cart-abandoned" in flows
        assert s.scalar(select(Template.id).where(Template.tenant_id == tenant["id"]).limit(1))

    key = client.post(
        f"/v1/tenants/{tenant['id']}/keys",
        json={"scopes": ["events:write", "messages:read"], "name": "woo"},
        headers=operator,
    )
    assert key.status_code == 201
    secret = key.get_json()["key"]
    assert secret.startswith(key.get_json()["prefix"])
    event = order_event("k1", "+7 701 123 45 67", "processing", NOON)
    sent = client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {secret}"})
    assert sent.status_code == 202

    listed = client.get(f"/v1/tenants/{tenant['id']}/keys", headers=operator).get_json()
    [row] = listed["items"]
    assert "key" not in row and "key_hash" not in row and secret not in str(listed)
    assert row["scopes"] == ["events:write", "messages:read"]
    [created] = audit_rows(rt, "tenant.create")
    assert (created.actor, created.tenant_id, created.after["name"]) == (
        "operator",
        tenant["id"],
        "kz-shop",
    )
    [key_audit] = audit_rows(rt, "key.create")
    assert key_audit.after["prefix"] == row["prefix"] and secret not in str(key_audit.after)


def test_duplicate_and_invalid_tenants_are_refused_without_writing(rt, client, operator, tenant):
    dup = client.post("/v1/tenants", json={"name": "shop-by", "region": "BY"}, headers=operator)
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "tenant_exists"
    bad = client.post(
        "/v1/tenants",
        json={"name": "x", "region": "US", "timezone": "Mars/Base", "settings": {"bogus": 1}},
        headers=operator,
    )
    assert bad.status_code == 422
    err = bad.get_json()["error"]
    assert err["code"] == "validation_error"
    assert set(err["fields"]) == {"region", "timezone", "settings"}
    footer = client.post(
        "/v1/tenants",
        json={"name": "y", "region": "RU", "settings": {"optout_footer": "Ваш магазин"}},
        headers=operator,
    )
    assert footer.status_code == 422 and footer.get_json()["error"]["code"] == "invalid_settings"
    listed = client.get("/v1/tenants", headers=operator).get_json()
    assert [t["name"] for t in listed["items"]] == ["shop-by"]
    assert audit_rows(rt) == []


def test_operator_routes_refuse_tenant_keys_and_wrong_tokens(rt, client, tenant):
    disabled = client.get("/v1/tenants", headers=OP)
    assert disabled.status_code == 403
    assert disabled.get_json()["error"]["code"] == "operator_api_disabled"
    rt.config["ADMIN_TOKEN"] = "op-secret"
    as_tenant = client.get("/v1/tenants", headers=tenant["headers"])
    assert as_tenant.status_code == 403
    assert as_tenant.get_json()["error"]["code"] == "operator_required"
    wrong = client.get("/v1/tenants", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_admin_token"
    assert client.get("/v1/tenants").status_code == 401


def test_tenant_list_pages_with_a_cursor(client, operator):
    for i in range(5):
        assert (
            client.post(
                "/v1/tenants", json={"name": f"t{i}", "region": "RU"}, headers=operator
            ).status_code
            == 201
        )
    first = client.get("/v1/tenants?limit=2", headers=operator).get_json()
    assert [t["name"] for t in first["items"]] == ["t0", "t1"]
    second = client.get(
        f"/v1/tenants?limit=2&cursor={first['next_cursor']}", headers=operator
    ).get_json()
    assert [t["name"] for t in second["items"]] == ["t2", "t3"]
    third = client.get(f"/v1/tenants?cursor={second['next_cursor']}", headers=operator).get_json()
    assert [t["name"] for t in third["items"]] == ["t4"] and third["next_cursor"] is None
    assert client.get("/v1/tenants?limit=501", headers=operator).status_code == 400
    bad = client.get("/v1/tenants?cursor=garbage!", headers=operator)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_query"


def test_disabling_a_tenant_blocks_its_messages_and_is_audited(rt, client, operator, tenant):
    resp = client.patch(
        f"/v1/tenants/{tenant['id']}", json={"status": "disabled"}, headers=operator
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "disabled"
    event = order_event("d1", "+375291234567", "processing", NOON)
    refused = client.post("/v1/events", json=event, headers=tenant["headers"])
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "tenant_disabled"
    [entry] = audit_rows(rt, "tenant.disable")
    assert (entry.before["status"], entry.after["status"]) == ("active", "disabled")
    missing = client.patch("/v1/tenants/nope", json={"status": "active"}, headers=operator)
    assert missing.status_code == 404
    bad = client.patch(f"/v1/tenants/{tenant['id']}", json={"status": "gone"}, headers=operator)
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


def test_providers_are_masked_checked_and_ordered_per_tenant(rt, client, operator, tenant):
    made = client.post(
        "/v1/providers",
        json={
            "name": "sb-main",
            "type": "sandbox",
            "config": {"password": "s3cret", "rate": "5/second"},
        },
        headers=operator,
    )
    assert made.status_code == 201
    assert made.get_json()["config"] == {"password": "***", "rate": "5/second"}
    assert "s3cret" not in made.get_data(as_text=True)
    client.post(
        "/v1/providers", json={"name": "sb-2", "type": "sandbox", "config": {}}, headers=operator
    )
    again = client.post(
        "/v1/providers",
        json={"name": "sb-main", "type": "sandbox", "config": {"password": "n3w"}},
        headers=operator,
    )
    assert again.status_code == 200
    listed = client.get("/v1/providers", headers=operator).get_json()
    assert [p["name"] for p in listed["items"]] == ["sb-2", "sb-main"]
    assert "n3w" not in str(listed)
    got = client.get("/v1/providers/sb-main", headers=operator).get_json()
    assert got["config"] == {"password": "***"} and got["callback_url"].startswith(
        "http://relay.test/callbacks/sb-main/"
    )
    check = client.post("/v1/providers/sb-main/check", headers=operator)
    assert check.status_code == 200 and check.get_json()["ok"] is True
    assert client.post("/v1/providers/none/check", headers=operator).status_code == 404
    unknown = client.post(
        "/v1/providers",
        json={"name": "x", "type": "carrier-pigeon", "config": {}},
        headers=operator,
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["code"] == "unknown_provider_type"

    order = client.put(
        f"/v1/tenants/{tenant['id']}/providers",
        json={"providers": ["sb-2", "sb-main"]},
        headers=operator,
    )
    assert order.status_code == 200 and order.get_json()["providers"] == ["sb-2", "sb-main"]
    bad = client.put(
        f"/v1/tenants/{tenant['id']}/providers",
        json={"providers": ["sb-2", "ghost"]},
        headers=operator,
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "provider_not_found"
    with rt.session() as s:
        rows = s.execute(
            select(Provider.name)
            .join(TenantProvider, TenantProvider.provider_id == Provider.id)
            .where(TenantProvider.tenant_id == tenant["id"])
            .order_by(TenantProvider.position)
        ).scalars()
        assert list(rows) == ["sb-2", "sb-main"]  # the refused change left the order alone
    saves = audit_rows(rt, "provider.save")
    assert [e.before is None for e in saves] == [True, True, False]
    assert "s3cret" not in str([(e.before, e.after) for e in saves])
    shown = client.get(f"/v1/tenants/{tenant['id']}", headers=operator).get_json()
    assert shown["providers"] == ["sb-2", "sb-main"]
    [order_entry] = audit_rows(rt, "tenant.providers")
    assert order_entry.after == {"providers": ["sb-2", "sb-main"]}


def test_operator_key_creation_validates_scopes(rt, client, operator, tenant):
    bad = client.post(
        f"/v1/tenants/{tenant['id']}/keys", json={"scopes": ["root"]}, headers=operator
    )
    assert bad.status_code == 422 and "scopes" in bad.get_json()["error"]["fields"]
    with rt.session() as s:
        assert len(list(s.scalars(select(ApiKey)))) == 1


def test_operator_settings_patch_merges_over_stored_settings(rt, client, operator, tenant):
    url = f"/v1/tenants/{tenant['id']}"
    client.patch(url, json={"settings": {"frequency_cap": 4}}, headers=operator)
    resp = client.patch(
        url,
        json={"settings": {"timezone_mode": "store"}, "timezone": "Europe/Moscow"},
        headers=operator,
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["settings"] == {"frequency_cap": 4, "timezone_mode": "store"}
    assert body["timezone"] == "Europe/Moscow"
    assert client.get("/v1/tenants/nope", headers=operator).status_code == 404
