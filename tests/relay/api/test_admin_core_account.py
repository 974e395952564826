"""A tenant's own account: keys, audit log, settings, sender names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from relay.storage.models import ApiKey, AuditEntry, SenderName, Tenant
from tests.support.factories import make_tenant

OP = {"Authorization": "Bearer op-secret"}


@pytest.fixture
def operator(rt):  # type: ignore[no-untyped-def]
    rt.config["ADMIN_TOKEN"] = "op-secret"
    return OP


def test_tenant_creates_lists_and_revokes_keys(rt, client, tenant):
    made = client.post(
        "/v1/keys", json={"scopes": ["messages:read"], "name": "reports"}, headers=tenant["headers"]
    )
    assert made.status_code == 201
    new = made.get_json()
    reader = {"Authorization": f"Bearer {new['key']}"}
    assert client.get("/v1/stoplist?phone=+375291234567", headers=reader).status_code == 200
    # a messages:read key is not an admin key
    denied = client.get("/v1/keys", headers=reader)
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "insufficient_scope"

    listed = client.get("/v1/keys", headers=tenant["headers"]).get_json()["items"]
    assert {k["prefix"] for k in listed} == {tenant["key"][:10], new["prefix"]}
    assert all("key" not in k for k in listed) and new["key"] not in str(listed)

    revoked = client.delete(f"/v1/keys/{new['id']}", headers=tenant["headers"])
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    gone = client.get("/v1/stoplist?phone=+375291234567", headers=reader)
    assert gone.status_code == 401 and gone.get_json()["error"]["code"] == "invalid_api_key"
    assert client.delete("/v1/keys/nope", headers=tenant["headers"]).status_code == 404
    with rt.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions == ["key.create", "key.revoke"]
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "key.revoke"))
        assert entry.actor == f"key:{tenant['key'][:10]}"
        assert entry.before["revoked_at"] is None and entry.after["revoked_at"]


def test_key_creation_refuses_unknown_scopes_and_bad_bodies(rt, client, tenant):
    for body, code in (
        ({"scopes": ["superuser"]}, "validation_error"),
        ({"scopes": []}, "validation_error"),
        ({"name": "x"}, "validation_error"),
    ):
        resp = client.post("/v1/keys", json=body, headers=tenant["headers"])
        assert resp.status_code == 422 and resp.get_json()["error"]["code"] == code
    raw = client.post("/v1/keys", data="{oops", headers=tenant["headers"])
    assert raw.status_code == 400 and raw.get_json()["error"]["code"] == "malformed_json"
    with rt.session() as s:
        assert len(list(s.scalars(select(ApiKey)))) == 1


def test_audit_log_filters_pages_and_stays_within_the_tenant(rt, client, tenant, clock, operator):
    other = make_tenant(rt, "other", "RU")
    for i in range(3):
        client.post(
            "/v1/keys", json={"scopes": ["admin"], "name": f"k{i}"}, headers=tenant["headers"]
        )
        clock.advance(hours=1)
    client.patch("/v1/settings", json={"frequency_cap": 4}, headers=tenant["headers"])
    client.post("/v1/keys", json={"scopes": ["admin"], "name": "theirs"}, headers=other["headers"])

    mine = client.get("/v1/audit", headers=tenant["headers"]).get_json()["items"]
    assert [e["action"] for e in mine] == ["settings.update"] + ["key.create"] * 3
    assert {e["tenant_id"] for e in mine} == {tenant["id"]}
    assert "theirs" not in str(mine)
    # a tenant key cannot widen its view with tenant_id
    sneaky = client.get(f"/v1/audit?tenant_id={other['id']}", headers=tenant["headers"]).get_json()
    assert other["id"] not in str(sneaky)

    page1 = client.get("/v1/audit?action=key.create&limit=2", headers=tenant["headers"]).get_json()
    assert [e["after"]["name"] for e in page1["items"]] == ["k2", "k1"]
    page2 = client.get(
        f"/v1/audit?action=key.create&limit=2&cursor={page1['next_cursor']}",
        headers=tenant["headers"],
    ).get_json()
    assert [e["after"]["name"] for e in page2["items"]] == ["k0"] and page2["next_cursor"] is None

    start = (clock.now - timedelta(hours=2, minutes=30)).isoformat()
    end = (clock.now - timedelta(minutes=30)).isoformat()
    window = client.get(
        "/v1/audit", query_string={"from": start, "to": end}, headers=tenant["headers"]
    ).get_json()["items"]
    assert [e["after"]["name"] for e in window] == ["k2", "k1"]
    # an unencoded '+' of the offset arrives as a space and is still understood
    plus = client.get(f"/v1/audit?from={start}", headers=tenant["headers"]).get_json()["items"]
    assert [e["action"] for e in plus] == ["settings.update", "key.create", "key.create"]
    naive = client.get("/v1/audit?from=2026-01-01T00:00:00", headers=tenant["headers"])
    assert naive.status_code == 400 and "from" in naive.get_json()["error"]["fields"]

    everything = client.get("/v1/audit", headers=operator).get_json()["items"]
    assert {e["tenant_id"] for e in everything} == {tenant["id"], other["id"]}
    theirs = client.get(f"/v1/audit?tenant_id={other['id']}", headers=operator).get_json()["items"]
    assert [e["after"]["name"] for e in theirs] == ["theirs"]


def test_settings_show_defaults_and_accept_a_valid_patch(rt, client, tenant):
    assert explain_at(client, tenant, "2026-01-15T23:30:00+03:00") == "defer"
    got = client.get("/v1/settings", headers=tenant["headers"]).get_json()
    assert got["quiet_hours"] == {"start": "23:00", "end": "07:00"}
    assert (got["timezone"], got["region"], got["frequency_cap"]) == ("Europe/Minsk", "BY", 2)
    assert got["notification_contacts"] == {"emails": [], "phones": []}
    patch = {
        "timezone": "Europe/Moscow",
        "quiet_hours": {"start": "22:00", "end": "08:00"},
        "transactional_quiet_hours": False,
        "timezone_mode": "store",
        "frequency_cap": 5,
        "optout_footer": "Отписаться: STOP на 1234",
        "rate": "100 per minute",
        "notification_contacts": {"emails": ["ops@shop.by"], "phones": ["29 123-45-67"]},
    }
    resp = client.patch("/v1/settings", json=patch, headers=tenant["headers"])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["notification_contacts"] == {"emails": ["ops@shop.by"], "phones": ["+375291234567"]}
    assert (body["timezone"], body["rate"], body["frequency_cap"]) == (
        "Europe/Moscow",
        "100 per minute",
        5,
    )
    with rt.session() as s:
        row = s.get(Tenant, tenant["id"])
        assert row.timezone == "Europe/Moscow"
        assert row.settings["quiet_hours"] == {"start": "22:00", "end": "08:00"}
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update"))
        assert entry.before["frequency_cap"] == 2 and entry.after["frequency_cap"] == 5
    # the policy reads the new setting at once: transactional no longer waits for 07:00
    assert explain_at(client, tenant, "2026-01-15T23:30:00+03:00") == "send"


def explain_at(client, tenant, at):  # type: ignore[no-untyped-def]
    body = {"phone": "+375291234567", "category": "transactional", "at": at}
    return client.post("/v1/policy/explain", json=body, headers=tenant["headers"]).get_json()[
        "decision"
    ]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "quiet_hours"),
        ({"frequency_cap": -1}, "frequency_cap"),
        ({"frequency_cap": "3"}, "frequency_cap"),
        ({"timezone_mode": "loose"}, "timezone_mode"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"region": "US"}, "region"),
        ({"rate": "fast"}, "rate"),
        ({"optout_footer": "Ваш магазин"}, "optout_footer"),
        ({"notification_contacts": {"emails": ["not-an-email"]}}, "notification_contacts"),
        ({"notification_contacts": {"phones": ["12"]}}, "notification_contacts.phones.0"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_settings_are_refused_with_the_field_and_change_nothing(
    rt, client, tenant, patch, field
):
    resp = client.patch("/v1/settings", json=patch, headers=tenant["headers"])
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["fields"]
    with rt.session() as s:
        row = s.get(Tenant, tenant["id"])
        assert (row.settings, row.timezone, row.region) == ({}, "Europe/Minsk", "BY")
        assert s.scalar(select(AuditEntry.id)) is None


def test_sender_names_are_requested_by_tenants_and_activated_by_the_operator(
    rt, client, tenant, operator
):
    bad = client.post(
        "/v1/senders", json={"channel": "sms", "name": "VERY-LONG-NAME"}, headers=tenant["headers"]
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_sender_name"
    made = client.post(
        "/v1/senders", json={"channel": "sms", "name": "SHOP"}, headers=tenant["headers"]
    )
    assert made.status_code == 201 and made.get_json()["state"] == "requested"
    sid = made.get_json()["id"]
    dup = client.post(
        "/v1/senders", json={"channel": "sms", "name": "SHOP"}, headers=tenant["headers"]
    )
    assert dup.status_code == 409
    self_active = client.post(
        "/v1/senders",
        json={"channel": "viber", "name": "Shop", "state": "active"},
        headers=tenant["headers"],
    )
    assert self_active.status_code == 403
    refused = client.patch(
        f"/v1/senders/{sid}", json={"state": "active"}, headers=tenant["headers"]
    )
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "operator_required"

    queue = client.get("/v1/senders?state=requested", headers=operator).get_json()["items"]
    assert [(s["tenant_id"], s["name"]) for s in queue] == [(tenant["id"], "SHOP")]
    ok = client.patch(f"/v1/senders/{sid}", json={"state": "active"}, headers=operator)
    assert ok.status_code == 200 and ok.get_json()["state"] == "active"
    viber = client.post(
        "/v1/senders",
        json={"channel": "viber", "name": "Магазин", "state": "active", "tenant_id": tenant["id"]},
        headers=operator,
    )
    assert viber.status_code == 201 and viber.get_json()["state"] == "active"
    mine = client.get("/v1/senders", headers=tenant["headers"]).get_json()["items"]
    assert [(s["channel"], s["name"], s["state"]) for s in mine] == [
        ("sms", "SHOP", "active"),
        ("viber", "Магазин", "active"),
    ]
    # the active name is now the only one the policy allows
    explain = client.post(
        "/v1/policy/explain",
        json={"phone": "+375291234567", "sender": "OTHER", "at": "2026-01-15T12:00:00+00:00"},
        headers=tenant["headers"],
    ).get_json()
    assert explain["decision"] == "block" and "sender_not_allowed" in str(explain["reasons"])
    with rt.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["sender.create", "sender.state", "sender.create"]
        assert s.get(SenderName, sid).state == "active"


def test_a_lost_unique_race_is_a_409_and_writes_nothing(rt, client, tenant, monkeypatch):
    """Two requests creating one name at once: the loser's flush fails; it must not be a 500."""
    from relay.api import senders

    def racing_create(session, tenant_id, channel, name, state):  # type: ignore[no-untyped-def]
        for _ in range(2):  # the second row stands for the concurrent request's
            session.add(SenderName(tenant_id=tenant_id, channel=channel, name=name, state=state))
        session.flush()

    monkeypatch.setattr(senders, "create_sender", racing_create)
    resp = client.post(
        "/v1/senders", json={"channel": "sms", "name": "SHOP"}, headers=tenant["headers"]
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "conflict"
    with rt.session() as s:
        assert s.scalar(select(SenderName.id)) is None
        assert s.scalar(select(AuditEntry.id)) is None


def test_account_names_the_keys_tenant_for_an_events_key_and_refuses_a_bad_key(client, tenant):
    made = client.post(
        "/v1/keys", json={"scopes": ["events:write"], "name": "plugin"}, headers=tenant["headers"]
    ).get_json()
    plugin = {"Authorization": f"Bearer {made['key']}"}
    for headers in (tenant["headers"], plugin):
        got = client.get("/v1/account", headers=headers)
        assert got.status_code == 200
        assert got.get_json() == {"tenant": {"id": tenant["id"], "name": "shop-by", "region": "BY"}}
    wrong = client.get("/v1/account", headers={"Authorization": "Bearer rk_nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_api_key"
