"""Bad input at the webhook: a clear JSON error or a recorded skip, never a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from relay.storage.models import ConnectorInbox, Event
from tests.connectors.woocommerce.helpers import SECRET, headers, order, php_json
from tests.support.factories import run_worker

URL = "/connectors/woocommerce/webhook"


def count(rt, model) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def refused(resp, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    body = resp.get_json()["error"]
    assert body["code"] == code and body["message"] and isinstance(body["fields"], dict)
    return body


def test_creation_ping_gets_exactly_200(rt, client):
    # WC_Webhook::deliver_ping: a form body, no X-WC headers; anything but 200 fails the save.
    resp = client.post(
        URL, data=b"webhook_id=12", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok", "ping": True}
    assert count(rt, ConnectorInbox) == 0


def test_signature_is_checked_over_the_exact_raw_bytes(rt, client, shop):
    body = order()
    raw = php_json(body)  # what WooCommerce sent and signed: "\/" and "\u0410…"
    reserialised = json.dumps(body, ensure_ascii=False).encode()  # same JSON, other bytes
    assert json.loads(reserialised) == json.loads(raw)
    resp = client.post(
        URL, data=reserialised, headers=headers(shop["source"], "order.created", raw)
    )
    refused(resp, 401, "invalid_signature")
    assert count(rt, ConnectorInbox) == 0
    ok = client.post(URL, data=raw, headers=headers(shop["source"], "order.created", raw))
    assert ok.status_code == 202


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", "Ωmega"])
def test_missing_or_wrong_signature_is_401(rt, client, shop, signature):
    raw = php_json(order())
    resp = client.post(
        URL, data=raw, headers=headers(shop["source"], "order.created", raw, signature=signature)
    )
    refused(resp, 401, "invalid_signature" if signature else "missing_signature")
    assert count(rt, ConnectorInbox) == 0


def test_signed_with_another_stores_secret_is_401(rt, client, shop):
    raw = php_json(order())
    resp = client.post(
        URL, data=raw, headers=headers(shop["source"], "order.created", raw, secret=SECRET + "x")
    )
    refused(resp, 401, "invalid_signature")


def test_unknown_store_source_is_404(rt, client, shop):
    raw = php_json(order())
    resp = client.post(
        URL, data=raw, headers=headers("https://other.example.by/", "order.created", raw)
    )
    assert refused(resp, 404, "unknown_store")["fields"] == {
        "X-WC-Webhook-Source": ["not installed"]
    }


def test_missing_source_header_is_400(rt, client, shop):
    raw = php_json(order())
    hdrs = headers(shop["source"], "order.created", raw)
    del hdrs["X-WC-Webhook-Source"]
    refused(client.post(URL, data=raw, headers=hdrs), 400, "missing_header")


def test_signed_body_that_is_not_json_is_400(rt, client, shop):
    raw = b"<html>not json</html>"
    refused(
        client.post(URL, data=raw, headers=headers(shop["source"], "order.updated", raw)),
        400,
        "malformed_json",
    )
    raw = b"[1, 2]"
    refused(
        client.post(URL, data=raw, headers=headers(shop["source"], "order.updated", raw)),
        400,
        "invalid_body",
    )
    assert count(rt, ConnectorInbox) == 0


def test_five_megabyte_body_is_413_json(rt, client, shop):
    raw = b'{"id":727,"x":"' + b"a" * (5 * 1024 * 1024) + b'"}'
    resp = client.post(URL, data=raw, headers=headers(shop["source"], "order.updated", raw))
    refused(resp, 413, "payload_too_large")
    assert count(rt, ConnectorInbox) == 0


def test_other_topics_are_answered_2xx_and_ignored(rt, client, shop):
    raw = php_json({"id": 93, "name": "Woo Single #1"})
    resp = client.post(URL, data=raw, headers=headers(shop["source"], "product.updated", raw))
    assert resp.status_code == 200 and resp.get_json()["status"] == "ignored"
    assert count(rt, ConnectorInbox) == 0


def test_body_that_is_not_an_order_is_a_recorded_skip(rt, client, shop):
    raw = php_json({"id": "727; DROP TABLE"})
    resp = client.post(URL, data=raw, headers=headers(shop["source"], "order.updated", raw))
    assert resp.status_code == 202
    run_worker(rt)
    with rt.session() as s:
        record = s.scalars(select(ConnectorInbox)).one()
    assert record.status == "skipped" and record.detail.startswith("not_an_order")
    assert count(rt, Event) == 0


def test_disabled_installation_is_refused(rt, client, shop):
    from shared.connector import get_context

    get_context("woocommerce").store.set_status("woocommerce", shop["account"], "disabled")
    raw = php_json(order())
    resp = client.post(URL, data=raw, headers=headers(shop["source"], "order.updated", raw))
    refused(resp, 403, "installation_disabled")


def test_queue_down_still_processes_the_delivery(rt, client, shop, monkeypatch):
    from shared.connector import get_context

    def broken(*_args):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis is down")

    monkeypatch.setattr(get_context("woocommerce"), "enqueue", broken)
    raw = php_json(order())
    resp = client.post(URL, data=raw, headers=headers(shop["source"], "order.created", raw))
    assert resp.status_code == 202
    with rt.session() as s:
        assert s.scalars(select(ConnectorInbox)).one().status == "done"
