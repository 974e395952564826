"""Settings: admin API, the widget's one-time token, flows kept in step, the page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from sqlalchemy import select

from relay.storage.models import Flow
from tests.connectors.amocrm.helpers import ACCOUNT_ID, CLIENT_SECRET, PAID, PIPELINE, WON

URL = "/connectors/amocrm/settings"


def widget_token(
    secret: str = CLIENT_SECRET,
    account_id: int = ACCOUNT_ID,
    iss: str = "https://example.amocrm.ru",
    exp_in: int = 600,
    alg: str = "HS256",
) -> str:
    """A one-time token as amoCRM's $authorizedAjax() sends it."""

    def b64(data: dict) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    head = b64({"typ": "JWT", "alg": alg})
    body = b64(
        {
            "iss": iss,
            "aud": "https://relay.example.com",
            "jti": "0f4c",
            "iat": now,
            "nbf": now,
            "exp": now + exp_in,
            "account_id": account_id,
            "user_id": 504141,
            "client_uuid": "6a2d4741",
        }
    )
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def flows(rt, tenant_id: str) -> dict[str, Flow]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return {f.name: f for f in s.scalars(select(Flow).where(Flow.tenant_id == tenant_id))}


def test_settings_show_the_account_stages_and_webhook_url(client, installed):
    body = client.get(URL, headers=installed["tenant"]["headers"]).get_json()
    assert body["account"]["account_id"] == str(ACCOUNT_ID)
    assert [s["status_id"] for s in body["stages"]] == [PAID, WON]
    assert body["webhook_url"] == installed["webhook_url"] and body["status"] == "active"


def test_saving_stages_installs_flows_and_removing_one_disables_it(rt, client, installed):
    tenant = installed["tenant"]
    made = flows(rt, tenant["id"])
    paid = made[f"amocrm-{PIPELINE}-{PAID}"]
    assert (paid.trigger, paid.conditions, paid.enabled) == (
        "order.status_changed",
        {"source.platform": "amocrm", "data.stage": f"{PIPELINE}:{PAID}"},
        True,
    )

    resp = client.put(
        URL,
        headers=tenant["headers"],
        json={"stages": [{"pipeline_id": PIPELINE, "status_id": PAID, "text": "Оплачено."}]},
    )

    assert resp.status_code == 200
    after = flows(rt, tenant["id"])
    assert after[f"amocrm-{PIPELINE}-{PAID}"].enabled is True
    assert after[f"amocrm-{PIPELINE}-{WON}"].enabled is False
    assert resp.get_json()["consent_field_id"] is None


def test_invalid_settings_are_422_with_fields(client, installed):
    headers = installed["tenant"]["headers"]
    cases = [
        ({"stages": [{"pipeline_id": "x", "status_id": 1, "text": "t"}]}, "stages"),
        ({"stages": [{"pipeline_id": 1, "status_id": 2}]}, "stages"),
        (
            {
                "stages": [
                    {"pipeline_id": 1, "status_id": 2, "text": "a"},
                    {"pipeline_id": 1, "status_id": 2, "text": "b"},
                ]
            },
            "stages",
        ),
        ({"consent_field_id": 5}, "consent_wording"),
        ({"stages": [{"pipeline_id": 1, "status_id": 2, "text": "t", "colour": "red"}]}, "stages"),
    ]
    for body, field in cases:
        resp = client.put(URL, headers=headers, json=body)
        assert resp.status_code == 422, body
        error = resp.get_json()["error"]
        assert error["code"] == "validation_error" and field in error["fields"], error
    resp = client.put(URL, headers=headers, data="[1", content_type="application/json")
    assert resp.status_code == 422


def test_template_the_relay_cannot_compile_is_422(client, installed):
    resp = client.put(
        URL,
        headers=installed["tenant"]["headers"],
        json={"stages": [{"pipeline_id": 1, "status_id": 2, "text": "{{ order.number "}]},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "invalid_flows"


def test_settings_need_an_admin_key_or_a_valid_widget_token(rt, client, installed):
    assert client.get(URL).status_code == 401
    from tests.support.factories import make_tenant

    stranger = make_tenant(rt, "no-amo", "RU")
    resp = client.get(URL, headers=stranger["headers"])
    assert (resp.status_code, resp.get_json()["error"]["code"]) == (404, "not_installed")

    ok = client.get(
        URL, headers={"X-Auth-Token": widget_token(), "Origin": "https://example.amocrm.ru"}
    )
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://example.amocrm.ru"
    for token, code in (
        (widget_token(secret="forged"), "invalid_widget_token"),
        (widget_token(alg="none"), "invalid_widget_token"),
        (widget_token(exp_in=-3600), "widget_token_expired"),
        ("not.a.jwt", "invalid_widget_token"),
    ):
        resp = client.get(URL, headers={"X-Auth-Token": token})
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (401, code)
    resp = client.get(URL, headers={"X-Auth-Token": widget_token(account_id=1)})
    assert resp.status_code == 404


def test_widget_preflight_and_foreign_origins(client, installed):
    resp = client.options(
        URL, headers={"Origin": "https://example.amocrm.ru", "Access-Control-Request-Method": "PUT"}
    )
    assert resp.status_code == 204
    assert "X-Auth-Token" in resp.headers["Access-Control-Allow-Headers"]
    resp = client.options(URL, headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_settings_page_is_served(client):
    resp = client.get("/connectors/amocrm/settings/page")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "X-Auth-Token" in resp.get_data(as_text=True)


def test_settings_carry_a_one_time_link_to_the_cabinet(client, installed):
    body = client.get(URL, headers=installed["tenant"]["headers"]).get_json()
    path = body["cabinet_url"].removeprefix("http://relay.test")
    assert path.startswith("/cabinet/sso?token=")
    opened = client.get(path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/cabinet/")
    home = client.get("/cabinet/").get_data(as_text=True)
    assert "amo-shop" in home and "amoCRM" in home
    assert client.get(path).status_code == 400  # used once
