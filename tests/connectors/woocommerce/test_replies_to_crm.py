"""A subscriber's free-text reply reaches the store as an order note (issue: replies)."""

from __future__ import annotations

from tests.connectors.woocommerce.helpers import deliver, order
from tests.support.factories import run_worker, sandbox_sends


def test_free_text_reply_becomes_an_order_note(rt, client, shop):
    tenant = shop["tenant"]
    resp = deliver(client, shop["source"], "order.updated", order(status="processing"))
    assert resp.status_code in (200, 202)
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1
    phone = sandbox_sends(rt)[0]["phone"]
    reply = client.post(
        "/v1/sandbox/inbound",
        headers=tenant["headers"],
        json={"from": phone, "text": "Когда привезут заказ?"},
    )
    assert reply.status_code == 202
    run_worker(rt)  # handle the reply, then the write-back job
    listed = client.get("/v1/inbound", headers=tenant["headers"]).get_json()["items"]
    assert [(r["handled_as"], r["routing"]) for r in listed] == [("reply", "sandbox")]
    notes = [n["note"] for n in shop["store"].notes[727]]
    assert any("Когда привезут заказ?" in n for n in notes), notes


def test_a_stop_reply_is_not_forwarded_but_stop_lists(rt, client, shop):
    tenant = shop["tenant"]
    deliver(client, shop["source"], "order.updated", order(status="processing"))
    run_worker(rt)
    phone = sandbox_sends(rt)[0]["phone"]
    client.post(
        "/v1/sandbox/inbound", headers=tenant["headers"], json={"from": phone, "text": "STOP"}
    )
    run_worker(rt)
    stop = client.get(f"/v1/stoplist?phone={phone}", headers=tenant["headers"]).get_json()
    assert [(e["source"], e["channel"]) for e in stop["items"]] == [("keyword", "sms")]
    assert not any("STOP" == n["note"] for n in shop["store"].notes[727])
