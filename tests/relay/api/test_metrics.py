"""GET /metrics: the Prometheus text after real traffic (intake, a worker, gateway receipts)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import fake_providers
from tests.support.factories import order_event, run_worker

NOON = "2026-01-15T15:00:00+03:00"  # 15:00 in Minsk: no quiet hours
OPERATOR = {"Authorization": "Bearer op-secret"}


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    resp = client.get("/metrics", headers=OPERATOR)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(resp.get_data(as_text=True))
        for s in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def gateway(rt, tenant):  # type: ignore[no-untyped-def]
    """A recording gateway of a name no other test uses, so its counters start at 0."""
    rt.config["ADMIN_TOKEN"] = "op-secret"
    fake_providers.register()
    name = f"gw-{secrets.token_hex(4)}"
    token = fake_providers.use_providers(rt, tenant["id"], (name, "recording"))[name]
    return {"name": name, "token": token}


def test_metrics_need_the_operator_token(client, tenant, gateway):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=tenant["headers"]).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_scraped_numbers_follow_intake_queue_sends_and_receipts(rt, client, tenant, gateway):
    name = gateway["name"]
    before = scrape(client)
    phones = ["+375291234561", "+375291234562", "+375291234563"]
    ids = []
    for i, phone in enumerate(phones):
        resp = client.post(
            "/v1/events",
            json=order_event(f"m-{i}", phone, "processing", NOON),
            headers=tenant["headers"],
        )
        assert resp.status_code == 202
        ids.append(resp.get_json()["messages"][0]["id"])
    bad = client.post("/v1/events", json={"event_id": "x"}, headers=tenant["headers"])
    assert bad.status_code == 422

    rt.clock.advance(seconds=30)
    queued = scrape(client)
    accepted = ("relay_intake_requests_total", {"route": "events", "code": "202"})
    assert (
        value(queued, accepted[0], **accepted[1]) - value(before, accepted[0], **accepted[1]) == 3
    )
    refused = {"route": "events", "code": "422"}
    assert value(queued, accepted[0], **refused) - value(before, accepted[0], **refused) == 1
    # three events' messages wait as ids for one drain job (coalesced delivery)
    assert value(queued, "relay_delivery_pending") == 3
    assert value(queued, "relay_queue_depth", queue=rt.config["QUEUE_NAME"]) == 1
    assert value(queued, "relay_oldest_queued_seconds") == pytest.approx(30, abs=1)
    assert value(queued, "relay_spool_bytes") == 0
    assert value(queued, "relay_spool_full") == 0

    run_worker(rt)  # the worker writes its counts to the multiprocess files the scrape sums
    for message_id in ids[:2]:
        resp = client.post(
            f"/callbacks/{name}/{gateway['token']}/dlr",
            json={"status": "delivered", "id": message_id},
        )
        assert resp.status_code == 200
    after = scrape(client)
    assert value(after, "relay_sends_total", gateway=name, status="sent") == 3
    assert value(after, "relay_sends_total", gateway=name, status="error") == 0
    assert value(after, "relay_gateway_call_seconds_count", gateway=name) >= 1
    assert value(after, "relay_receipts_total", gateway=name, result="applied") == 2
    assert value(after, "relay_receipt_lag_seconds_count", gateway=name) == 2
    assert value(after, "relay_queue_depth", queue=rt.config["QUEUE_NAME"]) == 0
    assert value(after, "relay_delivery_pending") == 0
    assert value(after, "relay_oldest_queued_seconds") == 0


def test_gateway_errors_are_counted_by_gateway(rt, client, tenant, gateway):
    flaky = f"down-{secrets.token_hex(4)}"
    fake_providers.use_providers(rt, tenant["id"], (flaky, "flaky"))
    resp = client.post(
        "/v1/events",
        json=order_event("f-1", "+375291234564", "processing", NOON),
        headers=tenant["headers"],
    )
    assert resp.status_code == 202
    run_worker(rt)
    samples = scrape(client)
    assert value(samples, "relay_sends_total", gateway=flaky, status="error") == 1
    assert value(samples, "relay_sends_total", gateway=flaky, status="sent") == 0
