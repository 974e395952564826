"""Write-back: message statuses and replies become private order notes via the REST API."""

from __future__ import annotations

import base64
import functools
from typing import Any

import pytest

from connectors.woocommerce import create_writeback
from connectors.woocommerce.rest import WooCommerceClient, WooCommerceError, WooCommerceRateLimited
from connectors.woocommerce.writeback import WooCommerceWriteback
from shared.connector import get_context
from shared.writeback import WritebackEvent
from tests.connectors.woocommerce.helpers import CK, CS, deliver, install, order
from tests.support.factories import run_worker


def event(
    account: str, status: str = "delivered", kind: str = "status_changed", **extra: Any
) -> WritebackEvent:
    context = {
        "source": {"platform": "woocommerce", "account": account},
        "order": {"id": "727", "status": "processing"},
        "data": {"order_id": "727"},
    }
    values: dict[str, Any] = {
        "kind": kind,
        "tenant_id": "t",
        "message_id": "msg-1",
        "phone": "+375291234567",
        "status": status,
        "context": context,
    }
    if kind == "reply_received":
        values.update(status=None, text="Спасибо, жду!")
    values.update(extra)
    return WritebackEvent(**values)


def writeback(**client_options: Any) -> WooCommerceWriteback:
    factory = functools.partial(WooCommerceClient, **client_options)
    return WooCommerceWriteback(get_context("woocommerce"), client_factory=factory)


def test_delivered_order_message_becomes_one_note_whatever_the_repeats(rt, client, shop):
    store = shop["store"]
    deliver(client, shop["source"], "order.created", order())
    run_worker(rt)
    # the sandbox delivered before the write-back job ran: still a "sent" note with the text
    # (as docs/connectors/woocommerce.md promises), then the "delivered" one
    sent, note = store.notes[727]
    assert sent["note"].startswith("Сообщение на +37529*****67: отправлено. Текст: «")
    assert sent["note"].endswith("sent]")
    assert note["note"].startswith("Сообщение на +37529*****67: доставлено")
    assert note["note"].endswith("delivered]") and note["customer_note"] is False
    # the relay may report the same status again: still one note per status
    wb = create_writeback(get_context("woocommerce"))
    wb.handle(event(shop["account"], message_id=note["note"].split()[-2]))
    wb.handle(event(shop["account"], status="sent", message_id=note["note"].split()[-2]))
    assert len(store.notes[727]) == 2
    post = [c for c in store.calls if c.method == "POST"][-1]
    assert post.extra["json"] == {"note": note["note"], "customer_note": False}
    # plain HTTP: OAuth 1.0a in the query, never the secret, never Basic auth
    assert post.params["oauth_signature_method"] == "HMAC-SHA256"
    assert post.params["oauth_consumer_key"] == CK and CS not in str(post.params)
    assert "Authorization" not in post.headers


def test_https_store_gets_basic_auth(rt, client, tenant, tls_store):
    assert install(client, tenant, tls_store.url).status_code == 201
    writeback().handle(event(tls_store.url + "/", status="sent", text="Заказ №727 принят."))
    [note] = tls_store.notes[727]
    assert "отправлено. Текст: «Заказ №727 принят.»" in note["note"]
    post = tls_store.last
    expected = base64.b64encode(f"{CK}:{CS}".encode()).decode()
    assert post.headers["Authorization"] == f"Basic {expected}"
    assert "oauth_signature" not in post.params


def test_blocked_note_names_the_reason_and_replies_are_noted(rt, client, shop):
    wb = writeback()
    wb.handle(event(shop["account"], status="blocked", reason="stop_list"))
    wb.handle(event(shop["account"], kind="reply_received"))
    wb.handle(event(shop["account"], kind="reply_received"))
    notes = [n["note"] for n in shop["store"].notes[727]]
    assert notes[0].startswith("Сообщение на +37529*****67: не отправлено — номер в стоп-листе")
    assert notes[1].startswith("Ответ клиента (+37529*****67) на сообщение: «Спасибо, жду!»")
    assert len(notes) == 2


def test_statuses_without_news_and_foreign_or_orderless_events_write_nothing(rt, client, shop):
    wb = writeback()
    for status in ("queued", "read", "cancelled", "unknown"):
        wb.handle(event(shop["account"], status=status))
    cart = event(shop["account"])
    cart.context.pop("order"), cart.context.pop("data")
    wb.handle(cart)
    other = event(shop["account"])
    other.context["source"]["platform"] = "bitrix24"
    wb.handle(other)
    wb.handle(event("https://not-installed.example.by/"))
    assert shop["store"].calls == []


def test_revoked_key_marks_the_installation_needs_reauth(rt, client, shop):
    shop["store"].secret = "cs_revoked"
    writeback().handle(event(shop["account"]))
    ctx = get_context("woocommerce")
    assert ctx.store.get("woocommerce", shop["account"]).status == "needs_reauth"
    assert shop["store"].last.answer is None and shop["store"].notes[727] == []
    calls = len(shop["store"].calls)
    writeback().handle(event(shop["account"]))  # no more attempts until new keys come
    assert len(shop["store"].calls) == calls
    # the webhook still works while the key is bad: order messages must not stop
    assert deliver(client, shop["source"], "order.updated", order()).status_code == 202


def test_deleted_order_is_not_an_error(rt, client, shop):
    wb = writeback()
    missing = event(shop["account"])
    missing.context["data"]["order_id"] = "999"
    wb.handle(missing)  # 404 woocommerce_rest_shop_order_invalid_id: logged, not raised
    assert shop["store"].notes[727] == []


def test_short_429_is_waited_out_long_429_is_raised(rt, client, shop):
    waits: list[float] = []
    shop["store"].rate_limit = ["2"]
    writeback(sleep=waits.append).handle(event(shop["account"]))
    assert waits == [2.0] and len(shop["store"].notes[727]) == 1
    shop["store"].rate_limit = ["Wed, 21 Oct 2099 07:28:00 GMT"]
    with pytest.raises(WooCommerceRateLimited) as caught:
        writeback(sleep=waits.append).handle(event(shop["account"], status="sent"))
    assert caught.value.retry_after > 30 and waits == [2.0]


def test_store_down_raises_for_a_retry(rt, client, shop):
    shop["store"].fail_status = [503, 503]
    with pytest.raises(WooCommerceError) as caught:
        writeback(retries=1, backoff_factor=0).handle(event(shop["account"]))
    assert caught.value.transient and caught.value.status == 503
    assert len(shop["store"].calls) == 2  # the GET was retried once, freshly signed


def test_wrong_note_payload_gets_the_documented_error(store):
    client = WooCommerceClient(store.url, CK, CS)
    with pytest.raises(WooCommerceError) as caught:
        client._request("POST", "orders/727/notes", json={"note": "x", "customer_note": "no"})
    assert (caught.value.code, caught.value.status) == ("rest_invalid_param", 400)
    with pytest.raises(WooCommerceError) as caught:
        client._request("POST", "orders/727/notes", json={"text": "x"})
    assert caught.value.code == "rest_missing_callback_param"
    with pytest.raises(WooCommerceError) as caught:
        client.add_note("1", "x")
    assert caught.value.code == "woocommerce_rest_order_invalid_id"
