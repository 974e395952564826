"""The REST client against the stand-in: pacing, QUERY_LIMIT_EXCEEDED, 5xx, token refresh."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from connectors.bitrix24.client import Bitrix24Client
from connectors.bitrix24.errors import NotInstalled, PortalUnavailable
from connectors.bitrix24.forms import command, flatten, unflatten
from connectors.bitrix24.ratelimit import TokenBucket
from relay.storage.models import Tenant
from shared.connector import get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.conftest import BASE, inbox, install, map_stages
from tests.support.factories import run_worker, sandbox_sends


def client_for(portal, sleeps=None):  # type: ignore[no-untyped-def]
    return Bitrix24Client.for_installation(
        get_context("bitrix24"),
        portal.member_id,
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
    )


def test_query_limit_exceeded_is_retried_with_growing_backoff(standin, installed):
    sleeps: list[float] = []
    standin.faults.query_limit = 2
    assert client_for(installed, sleeps).call("app.info")["CODE"] == "relay.sms"
    assert len(standin.rest_calls("app.info")) == 3
    # backoff, then the drained bucket's pacing, twice; the second backoff is longer
    assert len(sleeps) == 4 and sleeps[2] > sleeps[0] > 0


def test_query_limit_that_never_ends_raises_portal_unavailable(standin, installed):
    standin.faults.query_limit = 100
    with pytest.raises(PortalUnavailable) as caught:
        client_for(installed).call("app.info")
    assert caught.value.code == "QUERY_LIMIT_EXCEEDED"
    assert len(standin.rest_calls("app.info")) == 4  # the first try and max_retries=3 more


def test_server_errors_are_retried_for_reads_but_not_for_comments(standin, installed):
    deal = installed.add_deal(None)
    standin.faults.server_error = 1
    assert client_for(installed).call("crm.deal.get", {"id": deal})["ID"] == deal
    standin.faults.server_error = 1
    with pytest.raises(PortalUnavailable):
        client_for(installed).call(
            "crm.timeline.comment.add",
            {"fields": {"ENTITY_ID": deal, "ENTITY_TYPE": "deal", "COMMENT": "x"}},
        )
    assert len(standin.rest_calls("crm.timeline.comment.add")) == 1
    assert installed.comments == []


def test_expired_token_is_refreshed_once_saved_atomically_and_the_call_repeated(
    rt, standin, installed
):
    ctx = get_context("bitrix24")
    old = ctx.store.get("bitrix24", installed.member_id).secrets
    standin.expire_access_tokens()
    grants_before = len(standin.oauth_calls())

    assert client_for(installed).call("app.info")

    assert len(standin.oauth_calls()) == grants_before + 1
    new = ctx.store.get("bitrix24", installed.member_id).secrets
    assert new["refresh_token"] != old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    assert [c.status for c in standin.rest_calls("app.info")] == [401, 200]
    # the old refresh token is spent: a second client on stale secrets adopts the new pair
    assert client_for(installed).call("app.info")
    assert len(standin.oauth_calls()) == grants_before + 1


def test_a_worker_that_lost_the_rotation_race_uses_the_winners_tokens(rt, standin, installed):
    standin.expire_access_tokens()
    early, late = client_for(installed), client_for(installed)  # both hold the old pair
    assert early.call("app.info")
    grants = len(standin.oauth_calls())
    assert late.call("app.info")  # expired_token → sees the stored pair changed → no refresh
    assert len(standin.oauth_calls()) == grants


def test_refused_refresh_marks_the_tenant_needs_reinstall(rt, web, standin, installed, daytime):
    map_stages(get_context("bitrix24"), installed.member_id, {"deal": {"WON": "b24_order_done"}})
    deal = installed.add_deal(
        installed.add_contact(phones=[("+79001234567", "MOBILE")]), stage="WON"
    )
    standin.expire_access_tokens()
    standin.revoke_refresh_tokens()  # 180 days passed, or the app was removed

    web.post(f"{BASE}/events", data=payloads.crm_event(standin, installed, "ONCRMDEALUPDATE", deal))
    run_worker(rt)

    [record] = inbox(rt, "crm_event")
    assert record.status == "failed" and record.detail.startswith("needs_reinstall")
    inst = get_context("bitrix24").store.get("bitrix24", installed.member_id)
    assert inst.status == "needs_reinstall"
    assert inst.settings["auth_error"]["code"] == "invalid_grant"
    with rt.session() as s:
        tenant = s.scalar(select(Tenant).where(Tenant.id == inst.tenant_id))
    assert tenant.status == "needs_reinstall"
    with pytest.raises(NotInstalled):  # nothing calls the portal until it is reinstalled
        client_for(installed)
    # the administrator opens the app again: verified, active again
    assert install(web, standin, installed).status_code == 200
    assert get_context("bitrix24").store.get("bitrix24", installed.member_id).status == "active"
    with rt.session() as s:
        assert s.get(Tenant, inst.tenant_id).status == "active"


def test_portal_500_records_a_failure_and_a_replay_succeeds(rt, web, standin, installed, daytime):
    map_stages(get_context("bitrix24"), installed.member_id, {"deal": {"WON": "b24_order_done"}})
    deal = installed.add_deal(
        installed.add_contact(phones=[("+79001234567", "MOBILE")]), stage="WON"
    )
    standin.faults.server_error = 10
    web.post(f"{BASE}/events", data=payloads.crm_event(standin, installed, "ONCRMDEALUPDATE", deal))
    run_worker(rt)
    [record] = inbox(rt, "crm_event")
    assert record.status == "failed" and "portal unavailable" in record.detail
    assert sandbox_sends(rt) == []

    standin.faults.server_error = 0
    get_context("bitrix24").enqueue("connectors.bitrix24.jobs.process_event", record.id)
    run_worker(rt)
    assert inbox(rt, "crm_event")[0].status == "done"
    assert len(sandbox_sends(rt)) == 1


def test_logs_carry_neither_tokens_nor_phone_numbers(rt, web, standin, installed, daytime, caplog):
    caplog.set_level(logging.DEBUG)
    map_stages(get_context("bitrix24"), installed.member_id, {"deal": {"WON": "b24_order_done"}})
    deal = installed.add_deal(
        installed.add_contact(phones=[("+79001234567", "MOBILE")]), stage="WON"
    )
    standin.expire_access_tokens()
    web.post(f"{BASE}/events", data=payloads.crm_event(standin, installed, "ONCRMDEALUPDATE", deal))
    run_worker(rt)
    assert sandbox_sends(rt)
    secrets = get_context("bitrix24").store.get("bitrix24", installed.member_id).secrets
    ours = [r for r in caplog.records if r.name.startswith(("connectors", "relay"))]
    assert any(r.name.startswith("connectors.bitrix24") for r in ours)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for value in (
        secrets["access_token"],
        secrets["refresh_token"],
        installed.member_id,
        "79001234567",
        installed.application_token,
    ):
        assert value not in logged


def test_token_bucket_paces_after_the_burst():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=2, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] = 10.0
    bucket.drain()
    assert bucket.reserve() == 0.5


def test_form_encoding_round_trips_php_style_keys():
    params = {"fields": {"ENTITY_ID": 42, "COMMENT": "Привет & пока"}, "select": ["ID", "X"]}
    pairs = flatten(params)
    assert pairs == [
        ("fields[ENTITY_ID]", "42"),
        ("fields[COMMENT]", "Привет & пока"),
        ("select[0]", "ID"),
        ("select[1]", "X"),
    ]
    assert unflatten(pairs) == {
        "fields": {"ENTITY_ID": "42", "COMMENT": "Привет & пока"},
        "select": {"0": "ID", "1": "X"},
    }
    assert command("crm.contact.get", {"id": "$result[entity][CONTACT_ID]"}) == (
        "crm.contact.get?id=$result[entity][CONTACT_ID]"
    )
    with pytest.raises(ValueError):
        flatten({"halt": True})
