"""The settings page inside the portal: opening, saving the stage mapping, the test send."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from shared.connector import get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.conftest import BASE, inbox
from tests.support.factories import run_worker, sandbox_sends


def open_page(web, standin, portal):  # type: ignore[no-untyped-def]
    query, form = payloads.settings_open(standin, portal)
    return web.post(f"{BASE}/settings?{urlencode(query)}", data=form)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no field {name}"
    return match.group(1)


def test_page_opens_in_the_portal_frame_with_the_portals_stages(web, standin, installed):
    response = open_page(web, standin, installed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert f"https://{installed.domain}" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    for stage in ("Сделка успешна", "WON", "Не обработан"):
        assert stage in html
    assert f'action="http://relay.test{BASE}/settings/save"' in html
    assert standin.rest_calls("app.info")  # the user's token was checked with the portal


def test_page_refuses_a_token_the_portal_does_not_know(web, standin, installed):
    query, form = payloads.settings_open(standin, installed)
    form["AUTH_ID"] = "f" * 32
    response = web.post(f"{BASE}/settings?{urlencode(query)}", data=form)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "invalid_auth"


def test_saving_maps_stages_and_sends_through_the_new_flow(rt, web, standin, installed, daytime):
    html = open_page(web, standin, installed).get_data(as_text=True)
    token = hidden(html, "form_token")
    form = {
        "member_id": installed.member_id,
        "form_token": token,
        "map|deal|WON": "b24_order_done",
        "name|deal|WON": "Сделка успешна",
        "tpl_text|b24_order_done": "Заказ {{ order.number }} у вас. Спасибо!",
        "tpl_cat|b24_order_done": "transactional",
        "consent_field": "UF_CRM_SMS_OK",
        "sender": "",
        "provider_category": "transactional",
    }

    response = web.post(f"{BASE}/settings/save", data=form)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Настройки сохранены" in response.get_data(as_text=True)
    settings = get_context("bitrix24").store.get("bitrix24", installed.member_id).settings
    assert settings["stage_templates"] == {"deal": {"WON": "b24_order_done"}}
    assert settings["consent_field"] == "UF_CRM_SMS_OK"
    contact = installed.add_contact(phones=[("+79001234567", "MOBILE")], UF_CRM_SMS_OK="1")
    deal = installed.add_deal(contact, stage="WON")
    web.post(f"{BASE}/events", data=payloads.crm_event(standin, installed, "ONCRMDEALUPDATE", deal))
    run_worker(rt)
    assert [s["text"] for s in sandbox_sends(rt)] == [f"Заказ {deal} у вас. Спасибо!"]
    assert "consent granted" in inbox(rt, "crm_event")[0].detail


def test_invalid_settings_are_shown_not_saved(web, standin, installed):
    html = open_page(web, standin, installed).get_data(as_text=True)
    form = {
        "member_id": installed.member_id,
        "form_token": hidden(html, "form_token"),
        "sender": "Слишком-длинное-имя",
        "consent_field": "TITLE",
        "tpl_text|b24_order_done": "{{ order.number",
        "map|deal|WON": "b24_order_done",
    }
    response = web.post(f"{BASE}/settings/save", data=form)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Имя отправителя" in text and "Поле согласия" in text
    settings = get_context("bitrix24").store.get("bitrix24", installed.member_id).settings
    assert settings["stage_templates"] == {} and settings["sender"] == ""


def test_template_the_relay_refuses_is_reported_and_nothing_saved(web, standin, installed):
    html = open_page(web, standin, installed).get_data(as_text=True)
    form = {
        "member_id": installed.member_id,
        "form_token": hidden(html, "form_token"),
        "tpl_text|b24_order_done": "{{ order.number",
        "map|deal|WON": "b24_order_done",
    }
    response = web.post(f"{BASE}/settings/save", data=form)
    assert response.status_code == 422
    assert "Relay не принял шаблоны" in response.get_data(as_text=True)
    settings = get_context("bitrix24").store.get("bitrix24", installed.member_id).settings
    assert settings["stage_templates"] == {}


def test_forged_or_expired_form_token_is_refused(web, standin, installed):
    for token in ("", "1.abc", f"9999999999.{'0' * 64}"):
        response = web.post(
            f"{BASE}/settings/save",
            data={"member_id": installed.member_id, "form_token": token, "sender": "X"},
        )
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "invalid_form_token"


def test_test_send_goes_through_the_policy(rt, web, standin, installed, daytime):
    html = open_page(web, standin, installed).get_data(as_text=True)
    token = hidden(html, "form_token")
    response = web.post(
        f"{BASE}/settings/test",
        data={
            "member_id": installed.member_id,
            "form_token": token,
            "phone": "+7 900 123-45-67",
            "text": "Проверка связи",
        },
    )
    assert response.status_code == 200
    assert "queued" in response.get_data(as_text=True)
    run_worker(rt)
    assert [s["text"] for s in sandbox_sends(rt)] == ["Проверка связи"]
    bad = web.post(
        f"{BASE}/settings/test",
        data={"member_id": installed.member_id, "form_token": token, "phone": "12", "text": "x"},
    )
    assert bad.status_code == 422 and "invalid_phone" in bad.get_data(as_text=True)


def test_page_links_to_the_cabinet_without_a_second_password(web, standin, installed):
    html = open_page(web, standin, installed).get_data(as_text=True)
    found = re.search(r'href="http://relay\.test(/cabinet/sso\?token=[^"]+)" target="_blank"', html)
    assert found, "no cabinet link on the settings page"
    opened = web.get(found.group(1).replace("&amp;", "&"))
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/cabinet/")
    assert "Bitrix24" in web.get("/cabinet/").get_data(as_text=True)
