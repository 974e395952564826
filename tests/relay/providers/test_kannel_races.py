"""Kannel reports fast: with the fake SMSC (and with real SMPP links, for type 8) the reports
come within a millisecond of the MT, two of them (8 then 1) fetched concurrently by smsbox, and
often before the worker has committed `sent`. Real Kannel runs showed both races below about
one time in ten; here each is replayed deterministically.

Both are bugs outside the adapter (relay/receipts/receipts.py and delivery.py; the fix is
described when the Kannel adapter was written). They pass since the fixes landed in
relay/receipts/receipts.py (conditional status update) and delivery.py (overtaken rows).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from relay.delivery.delivery import claim
from relay.gateways.provider_admin import save_provider
from relay.receipts.receipts import apply_receipt
from relay.storage.models import Message, Provider, TenantProvider
from tests.support.factories import make_tenant, order_event, run_worker
from tests.support.kannel import SendsmsStandIn


@pytest.fixture
def standin() -> Iterator[SendsmsStandIn]:
    with SendsmsStandIn() as server:
        yield server


@pytest.fixture
def shop(rt, client, standin):  # type: ignore[no-untyped-def]
    """A tenant sending through a `kannel` provider on the stand-in; returns (tenant, token)."""
    tenant = make_tenant(rt, "shop", "BY", settings={"transactional_quiet_hours": False})
    with rt.session() as s:
        token = save_provider(
            s,
            "kannel",
            "kannel",
            {"sendsms_url": standin.url, "username": "relay", "password": "pw"},
            rt.secrets,
        )["callback_token"]
        pid = s.scalar(select(Provider.id).where(Provider.name == "kannel"))
        s.add(TenantProvider(tenant_id=tenant["id"], provider_id=pid, position=0))
        s.commit()
    return tenant, token


def order(client, tenant, event_id: str = "o1") -> str:  # type: ignore[no-untyped-def]
    resp = client.post(
        "/v1/events",
        headers=tenant["headers"],
        json=order_event(event_id, "+375291234567", "processing", "2026-01-15T15:00:00+03:00"),
    )
    [msg] = resp.get_json()["messages"]
    return msg["id"]


def history(client, tenant, mid: str) -> tuple[str, list[str], str | None]:  # type: ignore[no-untyped-def]
    got = client.get(f"/v1/messages/{mid}", headers=tenant["headers"]).get_json()
    return got["status"], [h["status"] for h in got["history"]], got["provider"]


def test_concurrent_reports_never_move_a_message_back(rt, client, shop, clock):
    tenant, token = shop
    mid = order(client, tenant)
    with rt.session() as s:
        claim(s, [mid], clock())
        s.commit()
    # report 8 ("sent") is being handled: its request has read the message, still `sending` …
    late = rt.session()
    seen = late.get(Message, mid)  # held, as apply_receipt holds it between its read and write
    assert seen.status == "sending"
    # … when report 1 ("delivered") is handled and committed by another request
    assert client.get(f"/callbacks/kannel/{token}/dlr?id={mid}&status=1").status_code == 200
    # then the first request goes on with what it read
    from relay.providers.kannel import KannelProvider

    [receipt] = KannelProvider(
        "kannel", {"sendsms_url": "http://k/s", "username": "u", "password": "p"}
    ).parse_receipts({"id": mid, "status": "8"}, {})
    apply_receipt(late, "kannel", receipt, clock())
    late.commit()
    late.close()
    assert history(client, tenant, mid)[0] == "delivered"


def test_report_before_the_worker_commits_sent(rt, client, shop, standin):
    tenant, token = shop
    mid = order(client, tenant)

    def report_first(args: dict[str, str]) -> None:  # smsbox reports before it answers 202
        assert f"/dlr?id={mid}&status=%d" in args["dlr-url"]
        assert client.get(f"/callbacks/kannel/{token}/dlr?id={mid}&status=1").status_code == 200

    standin.before_answer = report_first
    run_worker(rt)
    status, statuses, provider = history(client, tenant, mid)
    assert status == "delivered"
    assert statuses[-1] == "delivered" and len(statuses) == len(set(statuses))
    assert provider == "kannel"
