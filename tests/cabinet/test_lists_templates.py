"""Templates in the cabinet through HTTP: the list, a new template, a new version, versions,
the preview (server use case) with and without JavaScript's fragment route; errors are 4xx
pages with nothing saved; texts are shown escaped; a viewer gets 403; another store's
template is a 404."""

from __future__ import annotations

import pytest

from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.support.factories import make_tenant

OWNER = "+375291111111"
VIEWER = "+375292222222"
HOSTILE = "<script>alert(1)</script> {{ customer.name }}, заказ готов"


@pytest.fixture
def store(rt):
    t = make_tenant(rt, "Цветы у дома", "BY")
    add_user(rt, t["id"], OWNER, "owner")
    add_user(rt, t["id"], VIEWER, "viewer")
    return t


def api_template(client, store, name):
    return client.get(f"/v1/templates/{name}", headers=store["headers"])


def test_create_preview_and_version_a_template(client, store):
    sign_in(client, OWNER)
    form = {"name": "ready_note", "category": "transactional", "sms_text": HOSTILE}
    resp = post(client, "/cabinet/templates/new", form)
    assert resp.status_code == 302
    page = text(client.get("/cabinet/templates/ready_note"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Частей SMS:" in page and "data-preview-url" in page
    assert "ready_note" in text(client.get("/cabinet/templates"))
    # preview without saving: the button, and the fragment the script asks for
    form = {
        "category": "transactional",
        "sms_text": "Привет, {{ customer.name }}!",
        "action": "preview",
    }
    prev = post(client, "/cabinet/templates/ready_note", form)
    assert prev.status_code == 200 and "Привет, " in text(prev)
    frag = post(client, "/cabinet/templates/ready_note/preview", form)
    assert frag.status_code == 200 and "<html" not in text(frag) and "Привет, " in text(frag)
    bad = post(client, "/cabinet/templates/ready_note/preview", {**form, "sms_text": "{{ oops"})
    assert "Текст не заполняется примерными данными." in text(bad)
    assert api_template(client, store, "ready_note").get_json()["version"] == 1
    # save a new version
    form["action"] = "save"
    assert post(client, "/cabinet/templates/ready_note", form).status_code == 302
    saved = api_template(client, store, "ready_note").get_json()
    assert saved["version"] == 2 and saved["sms_text"] == "Привет, {{ customer.name }}!"
    assert [v["version"] for v in saved["versions"]] == [2, 1]
    old = text(client.get("/cabinet/templates/ready_note?version=1"))
    assert "старая версия" in old and "&lt;script&gt;" in old
    # the same content again keeps the version
    assert post(client, "/cabinet/templates/ready_note", form).status_code == 302
    assert api_template(client, store, "ready_note").get_json()["version"] == 2


def test_bad_templates_are_4xx_with_nothing_saved(client, store):
    sign_in(client, OWNER)
    cases = [
        ({"name": "bad name!", "category": "transactional", "sms_text": "x"}, 'id="error-name"'),
        ({"name": "empty", "category": "transactional"}, 'id="error-sms_text"'),
        ({"name": "syntax", "category": "transactional", "sms_text": "{{ oops"}, "ошибка"),
        ({"name": "kind", "category": "spam", "sms_text": "x"}, 'id="error-category"'),
        ({"name": "long", "category": "transactional", "sms_text": "я" * 5001}, "5000"),
    ]
    for form, shown in cases:
        resp = post(client, "/cabinet/templates/new", form)
        assert resp.status_code in (409, 422) and shown in text(resp), form
        assert api_template(client, store, form["name"]).status_code in (404, 405), form
    post(
        client,
        "/cabinet/templates/new",
        {"name": "ok", "category": "transactional", "sms_text": "a"},
    )
    resp = post(
        client,
        "/cabinet/templates/new",
        {"name": "ok", "category": "transactional", "sms_text": "b"},
    )
    assert resp.status_code == 409 and "Шаблон с таким названием уже есть." in text(resp)
    resp = post(client, "/cabinet/templates/ok", {"category": "transactional", "sms_text": "{{ x"})
    assert resp.status_code == 422 and api_template(client, store, "ok").get_json()["version"] == 1


def test_a_viewer_reads_and_another_store_is_404(client, store, rt):
    other = make_tenant(rt, "Другой", "BY")
    body = {"name": "theirs", "category": "transactional", "sms_text": "Их текст"}
    assert client.post("/v1/templates", json=body, headers=other["headers"]).status_code == 201
    assert (
        client.post(
            "/v1/templates", json={**body, "name": "mine"}, headers=store["headers"]
        ).status_code
        == 201
    )
    sign_in(client, VIEWER)
    page = client.get("/cabinet/templates/mine")
    assert page.status_code == 200 and "Сохранить новую версию" not in text(page)
    form = {"category": "transactional", "sms_text": "x"}
    assert post(client, "/cabinet/templates/mine", form).status_code == 403
    assert post(client, "/cabinet/templates/new", {**form, "name": "n"}).status_code == 403
    assert client.get("/cabinet/templates/theirs").status_code == 404


def test_delete_a_template_unless_a_flow_still_sends_it(client, store):
    sign_in(client, OWNER)
    form = {"name": "spare_note", "category": "transactional", "sms_text": "Заказ готов"}
    assert post(client, "/cabinet/templates/new", form).status_code == 302
    ask = client.get("/cabinet/templates/spare_note/delete")
    assert ask.status_code == 200 and "Удалить навсегда" in text(ask)
    assert post(client, "/cabinet/templates/spare_note/delete").status_code == 302
    assert api_template(client, store, "spare_note").status_code == 404
    audit = client.get("/v1/audit?action=template.delete", headers=store["headers"]).get_json()
    assert [a["target_id"] for a in audit["items"]] == ["spare_note"]
    # a template a flow sends stays, and the page says who sends it
    flows = client.get("/v1/flows", headers=store["headers"]).get_json()["items"]
    used = flows[0]["template"]
    resp = post(client, f"/cabinet/templates/{used}/delete")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/{used}/delete")
    assert flows[0]["name"] in text(client.get(resp.headers["Location"]))
    assert api_template(client, store, used).status_code == 200
    assert client.get("/cabinet/templates/nope/delete").status_code == 404


def test_a_viewer_cannot_delete_a_template(client, store):
    sign_in(client, VIEWER)
    flows = client.get("/v1/flows", headers=store["headers"]).get_json()["items"]
    used = flows[0]["template"]
    assert client.get(f"/cabinet/templates/{used}/delete").status_code == 403
    assert post(client, f"/cabinet/templates/{used}/delete").status_code == 403
