"""OAuth install against the stand-in: state, code exchange, installation, webhook subscription."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from connectors.amocrm.auth import make_state
from connectors.amocrm.config import AmoConfig
from relay.storage.models import Installation as InstallationRow
from relay.storage.models import Tenant
from shared.connector import get_context
from tests.connectors.amocrm.helpers import (
    ACCOUNT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    DOMAIN,
    REDIRECT_URI,
    install,
)

CALLBACK = "/connectors/amocrm/oauth/callback"


def stored(rt):  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(InstallationRow).where(InstallationRow.platform == "amocrm"))


def test_install_exchanges_code_saves_encrypted_tokens_and_subscribes_webhook(
    rt, client, amo, shop
):
    start = client.post("/connectors/amocrm/install", headers=shop["headers"])
    assert start.status_code == 200
    authorize = urlsplit(start.get_json()["authorize_url"])
    assert (authorize.netloc, authorize.path) == ("www.amocrm.ru", "/oauth")
    assert parse_qs(authorize.query)["client_id"] == [CLIENT_ID]

    code = amo.issue_code()
    resp = client.get(
        CALLBACK, query_string={"code": code, "referer": DOMAIN, "state": start.get_json()["state"]}
    )

    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["account"], body["account_id"], body["tenant_id"]) == (
        DOMAIN,
        str(ACCOUNT_ID),
        shop["id"],
    )
    # the token endpoint got exactly the documented parameters
    [token_call] = amo.calls_to("/oauth2/access_token")
    assert token_call.params == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    # installation: tokens present, but encrypted at rest
    installation = get_context("amocrm").store.get("amocrm", DOMAIN)
    access = installation.secrets["access_token"]
    assert access in amo.access_tokens and installation.secrets["refresh_token"]
    assert installation.settings["subdomain"] == "example"
    assert installation.settings["currency"] == "RUB"
    row = stored(rt)
    assert access not in str(row.secrets_encrypted)
    # the webhook was subscribed for lead status changes, at the URL we answered with
    [hook] = amo.webhooks
    assert hook["destination"] == body["webhook_url"] and body["webhook_registered"] is True
    assert hook["settings"] == ["add_lead", "status_lead"]
    assert body["webhook_url"].startswith(f"http://relay.test/connectors/amocrm/webhook/{DOMAIN}/")


def test_install_start_needs_an_admin_key(client, amo, shop):
    assert client.post("/connectors/amocrm/install").status_code == 401
    resp = client.post("/connectors/amocrm/install", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"


def test_forged_or_expired_state_is_refused_before_calling_amocrm(client, amo, shop):
    forged = make_state(
        AmoConfig.from_mapping(
            {"client_id": "x", "client_secret": "other", "redirect_uri": "https://r"}
        ),
        shop["id"],
    )
    resp = client.get(
        CALLBACK, query_string={"code": amo.issue_code(), "referer": DOMAIN, "state": forged}
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_state"

    ctx = get_context("amocrm")
    ctx.config["state_max_age"] = -1  # every state is already too old
    good = client.post("/connectors/amocrm/install", headers=shop["headers"]).get_json()
    resp = client.get(
        CALLBACK, query_string={"code": amo.issue_code(), "referer": DOMAIN, "state": good["state"]}
    )
    assert resp.get_json()["error"]["code"] == "state_expired"
    assert amo.calls == []


def test_referer_outside_amocrm_is_refused_so_the_secret_never_leaves(client, amo, shop):
    for referer in ("evil.example.com", "example.amocrm.ru.evil.com", "a.b.amocrm.ru", ""):
        resp = client.get(CALLBACK, query_string={"code": "c", "referer": referer})
        assert resp.status_code == 400, referer
        assert resp.get_json()["error"]["code"] in ("invalid_referer", "missing_parameters")
    assert amo.calls == []


def test_refused_code_and_denied_access_are_clear_errors(client, amo, shop):
    state = client.post("/connectors/amocrm/install", headers=shop["headers"]).get_json()["state"]
    resp = client.get(
        CALLBACK, query_string={"code": "used-or-wrong", "referer": DOMAIN, "state": state}
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "code_refused"
    resp = client.get(CALLBACK, query_string={"error": "access_denied", "state": state})
    assert resp.get_json()["error"]["code"] == "access_denied"
    assert get_context("amocrm").store.get("amocrm", DOMAIN) is None


def test_install_from_marketplace_without_state_creates_the_tenant(rt, client, amo):
    resp = client.get(CALLBACK, query_string={"code": amo.issue_code(), "referer": DOMAIN})

    assert resp.status_code == 201
    body = resp.get_json()
    assert body["created_tenant"] is True
    with rt.session() as s:
        tenant = s.get(Tenant, body["tenant_id"])
        assert (tenant.name, tenant.region) == (f"amocrm:{DOMAIN}", "RU")


def test_reinstall_keeps_the_webhook_url_and_lifts_needs_reauth(rt, client, amo, shop):
    first = install(client, amo, shop)
    ctx = get_context("amocrm")
    ctx.store.set_status("amocrm", DOMAIN, "needs_reauth")
    ctx.tenants.set_tenant_status(shop["id"], "needs_reauth")

    second = install(client, amo, shop)

    assert second["webhook_url"] == first["webhook_url"]
    assert ctx.store.get("amocrm", DOMAIN).status == "active"
    with rt.session() as s:
        assert s.get(Tenant, shop["id"]).status == "active"


def test_account_installed_for_another_tenant_is_a_conflict(rt, client, amo, shop):
    from tests.support.factories import make_tenant

    install(client, amo, shop)
    other = make_tenant(rt, "other-shop", "RU")
    state = client.post("/connectors/amocrm/install", headers=other["headers"]).get_json()["state"]
    resp = client.get(
        CALLBACK, query_string={"code": amo.issue_code(), "referer": DOMAIN, "state": state}
    )
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "account_linked_elsewhere"
    assert get_context("amocrm").store.get("amocrm", DOMAIN).tenant_id == shop["id"]


def test_unconfigured_connector_answers_503(rt, client, amo, shop):
    get_context("amocrm").config.clear()
    resp = client.post("/connectors/amocrm/install", headers=shop["headers"])
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "not_configured"
