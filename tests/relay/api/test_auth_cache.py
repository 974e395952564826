"""Keys are authenticated from a per-process cache (relay/tenancy/tenants.py): a key revoked or
a tenant changed by another process is seen here within AUTH_CACHE_SECONDS (docs/security.md,
'API keys stored hashed'), in this process at once."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import update

import relay.tenancy.tenants as tenants
from relay.storage.models import ApiKey, Tenant


class Monotonic:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    clock = Monotonic()
    # the cache's clock only: the rest of the process keeps real time
    monkeypatch.setattr(tenants, "time", SimpleNamespace(monotonic=clock))
    tenants.forget_cached_keys()
    return clock


def _event(n: int) -> dict[str, Any]:
    return {"event_id": f"cache-{n}", "type": "message.requested",
            "occurred_at": "2026-01-15T15:00:00+03:00", "customer": {"phone": "+375291234567"},
            "message": {"text": "Заказ готов", "channel": "sms",
                        "category": "transactional"}}  # fmt: skip


def test_a_key_revoked_elsewhere_is_refused_within_the_bound(rt, client, tenant, monotonic):  # type: ignore[no-untyped-def]
    assert client.post("/v1/events", json=_event(1), headers=tenant["headers"]).status_code == 202
    with rt.session() as s:  # revoked by another process: this one's cache is not told
        s.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
        s.commit()
    monotonic.at += tenants.AUTH_CACHE_SECONDS / 2
    assert client.post("/v1/events", json=_event(2), headers=tenant["headers"]).status_code == 202
    monotonic.at += tenants.AUTH_CACHE_SECONDS / 2 + 0.01
    refused = client.post("/v1/events", json=_event(3), headers=tenant["headers"])
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_api_key"


def test_a_key_revoked_here_is_refused_at_once(rt, client, tenant, monotonic):  # type: ignore[no-untyped-def]
    made = client.post("/v1/keys", headers=tenant["headers"], json={"scopes": ["events:write"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    key = {"Authorization": f"Bearer {made.get_json()['key']}"}
    assert client.post("/v1/events", json=_event(1), headers=key).status_code == 202
    gone = client.delete(f"/v1/keys/{made.get_json()['id']}", headers=tenant["headers"])
    assert gone.status_code == 200
    assert client.post("/v1/events", json=_event(2), headers=key).status_code == 401


def test_a_tenant_setting_changed_elsewhere_is_used_within_the_bound(  # type: ignore[no-untyped-def]
    rt, client, tenant, monotonic
):
    rt.config.update(RATE_LIMIT_PER_KEY="100/minute")
    assert client.get("/v1/templates", headers=tenant["headers"]).status_code == 200
    with rt.session() as s:  # the operator lowered the limit through another process
        s.execute(
            update(Tenant)
            .where(Tenant.id == tenant["id"])
            .values(settings={"api_rate_limit": "2/minute"})
        )
        s.commit()
    monotonic.at += tenants.AUTH_CACHE_SECONDS + 0.01
    statuses = [
        client.get("/v1/templates", headers=tenant["headers"]).status_code for _ in range(3)
    ]
    assert statuses[-1] == 429
    assert (
        "2 per 1 minute"
        in client.get("/v1/templates", headers=tenant["headers"]).get_json()["error"]["message"]
    )
