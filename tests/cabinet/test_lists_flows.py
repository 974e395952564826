"""Flows in the cabinet through HTTP: the list (event → template, channels) and the on/off
switch, saved through the flow use case; a viewer gets 403; another store's flow is a 404."""

from __future__ import annotations

import pytest

from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.support.factories import make_tenant

OWNER = "+375291111111"
VIEWER = "+375292222222"


@pytest.fixture
def store(rt):
    t = make_tenant(rt, "Цветы у дома", "BY")
    add_user(rt, t["id"], OWNER, "owner")
    add_user(rt, t["id"], VIEWER, "viewer")
    return t


def flows(client, store):
    items = client.get("/v1/flows", headers=store["headers"]).get_json()["items"]
    return {f["name"]: f for f in items}


def test_the_list_and_the_switch(client, store):
    before = flows(client, store)
    name = sorted(before)[0]
    assert before[name]["enabled"] is True
    sign_in(client, OWNER)
    page = text(client.get("/cabinet/flows"))
    assert name in page and before[name]["trigger"] in page and "включён" in page
    resp = post(client, f"/cabinet/flows/{name}/switch", {"enabled": "0"})
    assert resp.status_code == 302
    after = flows(client, store)
    assert after[name]["enabled"] is False
    assert {k: v for k, v in after[name].items() if k != "enabled"} == {
        k: v for k, v in before[name].items() if k != "enabled"
    }
    assert f"Сценарий «{name}» выключен." in text(client.get("/cabinet/flows"))
    assert post(client, f"/cabinet/flows/{name}/switch", {"enabled": "1"}).status_code == 302
    assert flows(client, store)[name]["enabled"] is True
    assert post(client, "/cabinet/flows/no-such-flow/switch", {"enabled": "1"}).status_code == 404


def test_a_viewer_cannot_switch_and_another_store_is_404(client, store, rt):
    other = make_tenant(rt, "Другой", "BY")
    own_name = sorted(flows(client, store))[0]
    sign_in(client, VIEWER)
    assert "Выключить" not in text(client.get("/cabinet/flows"))
    assert post(client, f"/cabinet/flows/{own_name}/switch", {"enabled": "0"}).status_code == 403
    assert flows(client, store)[own_name]["enabled"] is True
    post(client, "/cabinet/signout")
    sign_in(client, OWNER)
    theirs = flows(client, other)[own_name]
    extra = {k: v for k, v in theirs.items() if k != "id"}
    extra.update(name="only-theirs", template=theirs["template"] or own_name)
    assert client.post("/v1/flows", json=extra, headers=other["headers"]).status_code == 201
    resp = post(client, "/cabinet/flows/only-theirs/switch", {"enabled": "0"})
    assert resp.status_code == 404 and flows(client, other)["only-theirs"]["enabled"] is True
