"""Order webhooks end to end: signed delivery → inbox → job → relay → sandbox gateway."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from relay.storage.models import ConnectorInbox, Message
from tests.connectors.woocommerce.helpers import deliver, order
from tests.support.factories import run_worker, sandbox_sends


def inbox(rt) -> list[ConnectorInbox]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return list(s.scalars(select(ConnectorInbox).order_by(ConnectorInbox.id)))


def messages(rt) -> list[Message]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return list(s.scalars(select(Message).order_by(Message.created_at)))


def test_signed_belarusian_order_turns_into_one_delivered_message(rt, client, shop):
    first = deliver(client, shop["source"], "order.created", order())
    again = deliver(client, shop["source"], "order.created", order())  # the same delivery
    assert first.status_code == 202 and first.get_json()["status"] == "accepted"
    assert again.status_code == 200 and again.get_json() == {"status": "duplicate"}

    run_worker(rt)

    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+375291234567"  # "8 029 …" dialled from the billing country BY
    assert sent["text"] == "Заказ №727 принят. Сумма 29.35 BYN."
    [record] = inbox(rt)
    assert record.status == "done" and "woo-127.0.0.1" in record.detail
    [msg] = messages(rt)
    detail = client.get(f"/v1/messages/{msg.id}", headers=shop["tenant"]["headers"]).get_json()
    assert detail["status"] == "delivered"
    assert [h["status"] for h in detail["history"]] == ["queued", "sending", "sent", "delivered"]
    assert "previous_status" not in msg.context["order"]
    assert msg.context["data"]["order_id"] == "727"
    assert msg.context["cart"] == {"id": "c-91"}


def test_a_second_delivery_of_the_same_state_sends_nothing(rt, client, shop):
    # WooCommerce has no retry, but its background queue may run a delivery twice: other
    # delivery id, same order state. The job sees the status it already reported.
    deliver(client, shop["source"], "order.updated", order(), delivery_id="a1")
    deliver(client, shop["source"], "order.updated", order(), delivery_id="b2")
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1
    assert [r.status for r in inbox(rt)] == ["done", "skipped"]
    assert "status_unchanged" in inbox(rt)[1].detail


def test_processing_then_completed_sends_two_messages_and_completed_again_nothing(rt, client, shop):
    deliver(client, shop["source"], "order.created", order(status="pending"), delivery_id="1")
    run_worker(rt)
    deliver(
        client,
        shop["source"],
        "order.updated",
        order(date_modified_gmt="2026-01-15T11:51:00"),
        delivery_id="2",
    )
    run_worker(rt)
    deliver(
        client,
        shop["source"],
        "order.updated",
        order(status="completed", date_modified_gmt="2026-01-15T11:59:00"),
        delivery_id="3",
    )
    run_worker(rt)
    deliver(
        client,
        shop["source"],
        "order.updated",  # e.g. a note added to the order
        order(status="completed", date_modified_gmt="2026-01-15T12:05:00"),
        delivery_id="4",
    )
    run_worker(rt)

    texts = [s["text"] for s in sandbox_sends(rt)]
    assert texts == [
        "Заказ №727 принят. Сумма 29.35 BYN.",
        "Заказ №727 выполнен. Спасибо за покупку!",
    ]
    statuses = [
        (m.context["order"]["status"], m.context["order"]["previous_status"]) for m in messages(rt)
    ]
    assert statuses == [("processing", "pending"), ("completed", "processing")]
    assert inbox(rt)[-1].status == "skipped"
    assert "status_unchanged: still 'completed'" in inbox(rt)[-1].detail


def test_a_late_older_delivery_does_not_move_the_status_back(rt, client, shop):
    deliver(
        client,
        shop["source"],
        "order.updated",
        order(status="completed", date_modified_gmt="2026-01-15T11:59:00"),
        delivery_id="n",
    )
    run_worker(rt)
    deliver(
        client,
        shop["source"],
        "order.updated",
        order(status="processing", date_modified_gmt="2026-01-15T11:51:00"),
        delivery_id="o",
    )
    run_worker(rt)
    assert [s["text"] for s in sandbox_sends(rt)] == ["Заказ №727 выполнен. Спасибо за покупку!"]
    assert "stale" in inbox(rt)[-1].detail


def test_created_and_updated_showing_the_same_status_send_once(rt, client, shop):
    deliver(client, shop["source"], "order.created", order(), delivery_id="c")
    deliver(
        client,
        shop["source"],
        "order.updated",
        order(date_modified_gmt="2026-01-15T11:50:30"),
        delivery_id="u",
    )
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1


def _skip(rt, client, shop, body: dict[str, Any], topic: str = "order.updated") -> str:
    assert deliver(client, shop["source"], topic, body).status_code == 202
    run_worker(rt)
    [record] = inbox(rt)
    assert record.status == "skipped"
    assert sandbox_sends(rt) == [] and messages(rt) == []
    return record.detail


def test_order_without_a_phone_is_a_recorded_skip(rt, client, shop):
    assert _skip(rt, client, shop, order(billing={"phone": ""})).startswith("no_phone")


def test_phone_not_valid_for_the_billing_country_is_a_recorded_skip(rt, client, shop):
    # A Russian mobile written the Russian way, in an order whose billing country is Belarus.
    detail = _skip(rt, client, shop, order(billing={"phone": "8 916 123-45-67"}))
    assert detail.startswith("invalid_phone") and "916 123" not in detail


def test_drafts_and_deleted_orders_are_skipped(rt, client, shop):
    assert _skip(rt, client, shop, order(status="checkout-draft")).startswith("draft")


def test_deleted_order_is_skipped_with_its_reason(rt, client, shop):
    assert _skip(rt, client, shop, {"id": 727}, "order.deleted").startswith("order_deleted")


def test_custom_status_is_reported_without_a_flow(rt, client, shop):
    deliver(client, shop["source"], "order.updated", order(status="shipped"))
    run_worker(rt)
    [record] = inbox(rt)
    assert record.status == "done" and "woo-127.0.0.1" in record.detail
    assert "-727-shipped: []" in record.detail  # the relay has the event; no flow sends
    assert sandbox_sends(rt) == []
