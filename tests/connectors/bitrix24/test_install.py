"""Install, verification of install requests, bindings, uninstall and app update."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from relay.storage.models import ConnectorInbox, Tenant
from relay.storage.models import Installation as InstallationRow
from shared.connector import get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.conftest import BASE, install
from tests.support.factories import run_worker

EVENTS = {
    "ONCRMDEALADD",
    "ONCRMDEALUPDATE",
    "ONCRMLEADADD",
    "ONCRMLEADUPDATE",
    "ONCRMDYNAMICITEMADD",
    "ONCRMDYNAMICITEMUPDATE",
    "ONAPPUNINSTALL",
    "ONAPPUPDATE",
}


def tenant_of(rt, member_id):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(Tenant).where(Tenant.name == f"bitrix24:{member_id}"))


def test_install_page_creates_tenant_stores_tokens_encrypted_and_binds(rt, web, standin, portal):
    response = install(web, standin, portal)

    assert response.status_code == 200
    assert "BX24.installFinish()" in response.get_data(as_text=True)
    # a new portal is trusted through the OAuth server: one refresh_token grant, our keys
    [grant] = standin.oauth_calls()
    assert grant.http_method == "GET"
    assert grant.params["client_id"] == standin.client_id
    assert grant.params["client_secret"] == standin.client_secret
    tenant = tenant_of(rt, portal.member_id)
    assert (tenant.region, tenant.status, tenant.settings["display_name"]) == (
        "RU",
        "active",
        portal.domain,
    )
    inst = get_context("bitrix24").store.get("bitrix24", portal.member_id)
    assert inst.tenant_id == tenant.id and inst.status == "active"
    assert inst.secrets["access_token"] == grant.answer["access_token"]
    assert inst.secrets["refresh_token"] == grant.answer["refresh_token"]
    assert inst.secrets["application_token"] == portal.application_token
    assert inst.secrets["client_endpoint"] == standin.client_endpoint
    with rt.session() as s:
        row = s.scalar(select(InstallationRow))
        records = s.scalars(select(ConnectorInbox)).all()
    for secret in (
        inst.secrets["access_token"],
        inst.secrets["refresh_token"],
        portal.application_token,
    ):
        assert secret not in row.secrets_encrypted  # encrypted at rest
        assert all(secret not in str(r.payload) for r in records)  # never in the inbox

    run_worker(rt)

    assert {b["event"] for b in portal.bindings} == EVENTS
    assert {b["handler"] for b in portal.bindings} == {"http://relay.test" + BASE + "/events"}
    assert portal.senders["relay_sms"] == {
        "TYPE": "SMS",
        "NAME": "Relay SMS",
        "HANDLER": "http://relay.test" + BASE + "/sms",
    }
    # all nine registrations went in one batch request
    assert [c.method for c in standin.rest_calls() if c.http_method == "POST"] == ["batch"]
    inst = get_context("bitrix24").store.get("bitrix24", portal.member_id)
    assert set(inst.settings["bindings"]["events"]) == EVENTS


def test_lang_chooses_the_tenant_region(rt, web, standin, portal):
    query, form = payloads.install_page(standin, portal, lang="by")
    assert web.post(f"{BASE}/install?{urlencode(query)}", data=form).status_code == 200
    assert tenant_of(rt, portal.member_id).region == "BY"


def test_onappinstall_event_installs_and_its_application_token_guards_events(
    rt, web, standin, portal
):
    response = web.post(f"{BASE}/install", data=payloads.on_app_install(standin, portal))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "installed"
    inst = get_context("bitrix24").store.get("bitrix24", portal.member_id)
    assert inst.secrets["application_token"] == portal.application_token
    assert inst.settings["install_source"] == "ONAPPINSTALL"
    ok = web.post(
        f"{BASE}/events", data=payloads.crm_event(standin, portal, "ONCRMDEALUPDATE", "42")
    )
    assert ok.status_code == 200 and ok.get_json()["status"] == "accepted"


def test_install_claiming_another_portals_member_id_is_refused(rt, web, standin):
    victim, attacker = standin.add_portal("victim.bitrix24.ru"), standin.add_portal("evil.ru")
    query, form = payloads.install_page(standin, attacker)
    form["member_id"] = victim.member_id  # tokens of one portal, the id of another

    response = web.post(f"{BASE}/install?{urlencode(query)}", data=form)

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "install_not_verified"
    assert tenant_of(rt, victim.member_id) is None
    assert get_context("bitrix24").store.get("bitrix24", victim.member_id) is None


def test_install_with_a_refresh_token_the_oauth_server_refuses_stores_nothing(
    rt, web, standin, portal
):
    query, form = payloads.install_page(standin, portal)
    form["REFRESH_ID"] = "0" * 32
    response = web.post(f"{BASE}/install?{urlencode(query)}", data=form)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "install_not_verified"
    assert tenant_of(rt, portal.member_id) is None


def test_install_missing_fields_is_a_clear_400(web):
    response = web.post(f"{BASE}/install?DOMAIN=x.bitrix24.ru", data={"AUTH_ID": "a"})
    assert response.status_code == 400
    body = response.get_json()["error"]
    assert body["code"] == "missing_fields"
    assert set(body["fields"]) == {"member_id", "REFRESH_ID"}


def test_install_while_oauth_server_is_down_is_502_and_stores_nothing(rt, web, standin, portal):
    standin.faults.oauth_down = 1
    response = install(web, standin, portal)
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "platform_unavailable"
    assert get_context("bitrix24").store.get("bitrix24", portal.member_id) is None


def test_install_without_app_keys_in_config_is_503(rt, standin, portal):
    from relay import create_app

    rt.config["CONNECTORS"] = {}
    response = install(create_app(runtime=rt).test_client(), standin, portal)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "connector_not_configured"


def test_reopening_install_verifies_with_app_info_not_another_refresh(rt, web, standin, installed):
    before = len(standin.oauth_calls())
    response = install(web, standin, installed)
    assert response.status_code == 200
    assert len(standin.oauth_calls()) == before  # the stored endpoint vouches for the token
    assert standin.rest_calls("app.info")


def test_uninstall_disables_tenant_and_installation(rt, web, standin, installed):
    bad = payloads.on_app_uninstall(standin, installed)
    bad["auth[application_token]"] = "f" * 32
    assert web.post(f"{BASE}/events", data=bad).status_code == 403
    assert tenant_of(rt, installed.member_id).status == "active"

    response = web.post(f"{BASE}/events", data=payloads.on_app_uninstall(standin, installed))
    assert response.status_code == 200
    run_worker(rt)

    assert tenant_of(rt, installed.member_id).status == "disabled"
    inst = get_context("bitrix24").store.get("bitrix24", installed.member_id)
    assert inst.status == "disabled"
    assert "access_token" not in inst.secrets and "refresh_token" not in inst.secrets
    assert inst.settings["bindings"] == {}
    # later events of the removed app are refused, nothing recorded
    late = web.post(
        f"{BASE}/events", data=payloads.crm_event(standin, installed, "ONCRMDEALUPDATE", "42")
    )
    assert late.status_code == 403
    # reinstalling brings the tenant back
    assert install(web, standin, installed).status_code == 200
    assert tenant_of(rt, installed.member_id).status == "active"


def test_app_update_binds_the_handlers_again(rt, web, standin, installed):
    installed.bindings.clear()  # Bitrix24 drops an app's handlers when it is updated
    form = payloads.on_app_update(standin, installed)
    assert web.post(f"{BASE}/events", data=form).status_code == 200
    run_worker(rt)
    assert {b["event"] for b in installed.bindings} == EVENTS
