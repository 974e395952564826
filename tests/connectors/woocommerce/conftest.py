"""Fixtures: stand-in stores (HTTP and HTTPS) and an installed store on the test relay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.woocommerce.helpers import CK, CS, install
from tests.connectors.woocommerce.standin import WooCommerceStandIn, make_certificate


@pytest.fixture
def store() -> Iterator[WooCommerceStandIn]:
    """A store served over plain HTTP (OAuth 1.0a), with orders 727 and 728."""
    standin = WooCommerceStandIn(CK, CS, orders=(727, 728)).start()
    yield standin
    standin.stop()


@pytest.fixture
def tls_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WooCommerceStandIn]:
    """A store served over HTTPS (Basic auth); requests trusts its certificate."""
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    standin = WooCommerceStandIn(CK, CS, orders=(727, 728), tls=(cert, key)).start()
    yield standin
    standin.stop()


@pytest.fixture
def shop(client: Any, tenant: dict[str, Any], store: WooCommerceStandIn) -> dict[str, Any]:
    """The stand-in store installed for the Belarusian tenant; `source` is its webhook source."""
    resp = install(client, tenant, store.url)
    assert resp.status_code == 201, resp.get_json()
    return {
        "source": store.url + "/",
        "account": store.url + "/",
        "store": store,
        "tenant": tenant,
        "install": resp.get_json(),
    }
