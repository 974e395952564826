"""Fixtures: the amoCRM stand-in, the relay app with the connector configured, an install."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.connectors.amocrm.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    PAID,
    PIPELINE,
    REDIRECT_URI,
    WON,
    connector_config,
    install,
)
from tests.connectors.amocrm.standin import AmoStandIn
from tests.support.factories import make_tenant


@pytest.fixture
def amo() -> Iterator[AmoStandIn]:
    """The amoCRM account stand-in, listening on 127.0.0.1."""
    with AmoStandIn(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def app(rt, amo):  # type: ignore[no-untyped-def]
    """The relay app with the amoCRM connector configured against the stand-in."""
    from relay import create_app

    rt.config["CONNECTORS"] = {"amocrm": connector_config(amo)}
    return create_app(runtime=rt)


@pytest.fixture
def shop(rt) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A Russian tenant with an admin key; wall clock irrelevant for transactional SMS."""
    return make_tenant(
        rt,
        "amo-shop",
        "RU",
        "Europe/Moscow",
        settings={"transactional_quiet_hours": False, "timezone_mode": "store"},
    )


@pytest.fixture
def installed(client, amo, shop) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An installed account with two stages configured (a transactional and a marketing one)."""
    body = install(client, amo, shop)
    resp = client.put(
        "/connectors/amocrm/settings",
        headers=shop["headers"],
        json={
            "sender": "SHOP",
            "consent_field_id": 566027,
            "consent_wording": "Согласен получать SMS о скидках",
            "stages": [
                {
                    "pipeline_id": PIPELINE,
                    "status_id": PAID,
                    "category": "transactional",
                    "text": "{{ customer.name }}, оплата по заказу №{{ order.number }} получена.",
                },
                {
                    "pipeline_id": PIPELINE,
                    "status_id": WON,
                    "category": "marketing",
                    "text": "Спасибо за покупку! Скидка 10% на следующий заказ.",
                },
            ],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    return {**body, "path": urlsplit(body["webhook_url"]).path, "tenant": shop}
