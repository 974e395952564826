"""Fixtures: the Bitrix24 stand-in, the relay app with the connector configured for it, and an
installed portal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from shared.connector import ConnectorContext, get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.portal import Portal
from tests.connectors.bitrix24.standin import Bitrix24StandIn
from tests.support.factories import run_worker

BASE = "/connectors/bitrix24"


@pytest.fixture
def standin() -> Iterator[Bitrix24StandIn]:
    """The stand-in Bitrix24 (portals + OAuth server) on a free local port."""
    server = Bitrix24StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def b24_config(standin: Bitrix24StandIn) -> dict[str, Any]:
    """The relay's CONNECTORS["bitrix24"] block pointing at the stand-in; fast retries."""
    return {
        "client_id": standin.client_id,
        "client_secret": standin.client_secret,
        "oauth_url": standin.oauth_url,
        "backoff_seconds": 0.001,
        "backoff_max": 0.01,
        "rate_per_second": 1000,
        "burst": 1000,
        "max_retries": 3,
        "timeout": 5,
    }


@pytest.fixture
def b24_app(rt, b24_config):  # type: ignore[no-untyped-def]
    """The relay app with the Bitrix24 connector mounted and configured."""
    from relay import create_app

    rt.config["CONNECTORS"] = {"bitrix24": b24_config}
    return create_app(runtime=rt)


@pytest.fixture
def web(b24_app):  # type: ignore[no-untyped-def]
    """A test client of that app (plays Bitrix24's servers and the user's browser)."""
    return b24_app.test_client()


@pytest.fixture
def ctx(b24_app) -> ConnectorContext:  # type: ignore[no-untyped-def]
    """The connector's context as the relay built it."""
    return get_context("bitrix24")


@pytest.fixture
def daytime(clock):  # type: ignore[no-untyped-def]
    """08:00 UTC: daytime in every Russian time zone, so quiet hours never interfere."""
    clock.set(datetime(2026, 1, 15, 8, 0, tzinfo=UTC))
    return clock


@pytest.fixture
def portal(standin: Bitrix24StandIn) -> Portal:
    return standin.add_portal()


def install(web, standin: Bitrix24StandIn, portal: Portal):  # type: ignore[no-untyped-def]
    """POST the install page the way the administrator's browser does."""
    query, form = payloads.install_page(standin, portal)
    return web.post(f"{BASE}/install?{urlencode(query)}", data=form)


@pytest.fixture
def installed(rt, web, standin: Bitrix24StandIn, portal: Portal) -> Portal:
    """A portal with the app installed, events bound and the provider registered."""
    response = install(web, standin, portal)
    assert response.status_code == 200, response.get_data(as_text=True)
    run_worker(rt)
    assert portal.senders, "the provider was not registered"
    return portal


def map_stages(
    ctx: ConnectorContext, member_id: str, mapping: dict[str, dict[str, str]], **settings: Any
) -> None:
    """What saving the settings page does: store the mapping and load the tenant's flows."""
    from dataclasses import replace

    from connectors.bitrix24.flows import flows_document

    inst = ctx.store.get("bitrix24", member_id)
    new = {**inst.settings, "stage_templates": mapping, **settings}
    ctx.tenants.load_flows(inst.tenant_id, flows_document(new, inst.settings))
    ctx.store.save(replace(inst, settings=new))


def api_headers(rt, member_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A relay API key of the portal's tenant, to read messages back through /v1."""
    from sqlalchemy import select

    from relay.storage.models import Tenant
    from relay.tenancy.tenants import create_key

    with rt.session() as s:
        tenant = s.scalar(select(Tenant).where(Tenant.name == f"bitrix24:{member_id}"))
        _row, key = create_key(s, tenant, ["messages:read", "events:write", "admin"])
        s.commit()
    return {"Authorization": f"Bearer {key}"}


def inbox(rt, kind: str | None = None) -> list[Any]:  # type: ignore[no-untyped-def]
    """The connector's inbox records, oldest first."""
    from sqlalchemy import select

    from relay.storage.models import ConnectorInbox

    with rt.session() as s:
        query = select(ConnectorInbox).where(ConnectorInbox.platform == "bitrix24")
        if kind:
            query = query.where(ConnectorInbox.kind == kind)
        return list(s.scalars(query.order_by(ConnectorInbox.id)))
