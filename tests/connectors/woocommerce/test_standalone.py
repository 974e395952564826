"""The receiver as its own app, posting to a real relay over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from connectors.woocommerce.standalone import create_app
from relay.storage.models import Message
from shared.connector import get_context, set_context
from tests.connectors.woocommerce.helpers import CK, CS, SECRET, headers, order, php_json


@pytest.fixture
def relay_url(app: Any) -> Iterator[str]:
    """The relay app (with the test runtime) served on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    relay_ctx = get_context("woocommerce")
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    set_context(relay_ctx)  # the stand-alone app registered its own context


def test_standalone_receiver_posts_the_order_event_to_the_relay(rt, tenant, relay_url):
    app = create_app(
        {
            "RELAY_URL": relay_url,
            "RELAY_API_KEY": tenant["key"],
            "PUBLIC_URL": "https://hooks.example.by",
        }
    )
    client = app.test_client()
    resp = client.post(
        "/connectors/woocommerce/installations",
        headers=tenant["headers"],
        json={
            "store_url": "https://shop.example.by",
            "webhook_secret": SECRET,
            "consumer_key": CK,
            "consumer_secret": CS,
        },
    )
    assert resp.status_code == 201
    assert resp.get_json()["webhook_url"] == (
        "https://hooks.example.by/connectors/woocommerce/webhook"
    )
    assert app.extensions["woocommerce"]["tenants"].flows["flows"][0]["name"] == (
        "order-processing"
    )
    wrong = client.post(
        "/connectors/woocommerce/installations",
        json={},
        headers={"Authorization": "Bearer rk_wrong"},
    )
    assert wrong.status_code == 403

    raw = php_json(order())
    resp = client.post(
        "/connectors/woocommerce/webhook",
        data=raw,
        headers=headers("https://shop.example.by/", "order.created", raw),
    )
    assert resp.status_code == 202
    app.extensions["woocommerce"]["pool"].shutdown(wait=True)

    ctx = app.extensions["woocommerce"]["ctx"]
    record = ctx.inbox.load(resp.get_json()["inbox_id"])
    assert record.status == "done", record.detail
    with rt.session() as s:
        [msg] = s.scalars(select(Message)).all()
    assert (msg.phone, msg.status) == ("+375291234567", "queued")
    assert msg.context["source"] == {
        "platform": "woocommerce",
        "account": "https://shop.example.by/",
    }
