"""Stop-lists in the cabinet through HTTP: add numbers (all or none), search, delete selected,
clear all with a confirmation step, download, import; a viewer gets 403; another store's
entries are not touched."""

from __future__ import annotations

import io
import re

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


@pytest.fixture
def owner(client, store):
    sign_in(client, OWNER)
    return client


def entries(client, store, query=""):
    resp = client.get(f"/v1/stoplist/entries{query}", headers=store["headers"])
    return resp.get_json()["items"]


def test_add_search_delete_and_download(owner, store):
    resp = post(owner, "/cabinet/stoplists/add",
                {"numbers": "+375291234567\n29 765-43-21, +375331112233", "channel": "sms",
                 "note": "<b>просил</b>"})  # fmt: skip
    assert resp.status_code == 302
    page = text(owner.get("/cabinet/stoplists"))
    assert "Номеров добавлено в стоп-лист: 3." in page and "&lt;b&gt;просил&lt;/b&gt;" in page
    assert {e["channel"] for e in entries(owner, store)} == {"sms"} and len(
        entries(owner, store)
    ) == 3
    # one bad number: nothing written, the error on the page
    resp = post(owner, "/cabinet/stoplists/add",
                {"numbers": "+375290000001\nабв", "channel": "viber"})  # fmt: skip
    assert resp.status_code == 422 and 'id="error-numbers"' in text(resp) and "абв" in text(resp)
    assert len(entries(owner, store)) == 3
    resp = post(owner, "/cabinet/stoplists/add", {"numbers": "+375290000001", "channel": "fax"})
    assert resp.status_code == 422 and len(entries(owner, store)) == 3
    resp = post(owner, "/cabinet/stoplists/add", {"numbers": " ", "channel": "sms"})
    assert resp.status_code == 422
    # search by part of the number, filter by channel
    found = text(owner.get("/cabinet/stoplists?q=7654"))
    assert "+375297654321" in found and "+375291234567" not in found
    assert "Стоп-лист пуст." in text(owner.get("/cabinet/stoplists?channel=viber"))
    # delete selected
    ids = [e["id"] for e in entries(owner, store) if e["phone"] != "+375331112233"]
    resp = owner.post("/cabinet/stoplists/delete",
                      data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                    text(owner.get("/cabinet/stoplists"))).group(1),
                            "ids": [str(i) for i in ids]})  # fmt: skip
    assert resp.status_code == 302
    assert [e["phone"] for e in entries(owner, store)] == ["+375331112233"]
    assert post(owner, "/cabinet/stoplists/delete").status_code == 422
    csv = owner.get("/cabinet/stoplists/export?format=csv")
    assert csv.status_code == 200 and "+375331112233" in text(csv)
    assert owner.get("/cabinet/stoplists/export?format=xlsx").data[:2] == b"PK"


def test_clear_all_needs_the_confirmation_step(owner, store):
    post(owner, "/cabinet/stoplists/add", {"numbers": "+375291234567", "channel": "sms"})
    post(owner, "/cabinet/stoplists/add", {"numbers": "+375291234568", "channel": "viber"})
    confirm = owner.get("/cabinet/stoplists/clear?channel=sms")
    body = text(confirm)
    assert confirm.status_code == 200 and "Удалить записей: 1" in body
    assert len(entries(owner, store)) == 2
    token = re.search(r'name="confirm_token" value="([^"]+)"', body).group(1)
    bad = post(owner, "/cabinet/stoplists/clear", {"channel": "sms", "confirm_token": "x.1.y"})
    assert bad.status_code == 303 and len(entries(owner, store)) == 2
    resp = post(owner, "/cabinet/stoplists/clear", {"channel": "sms", "confirm_token": token})
    assert resp.status_code == 302
    assert [e["channel"] for e in entries(owner, store)] == ["viber"]


def test_import_a_csv_with_its_report(owner, store):
    data = "phone\n+375291234567\nне номер\n+375297777777\n".encode()
    resp = post(owner, "/cabinet/stoplists/import",
                {"import_channel": "viber", "file": (io.BytesIO(data), "stop.csv")},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 302
    page = text(owner.get(resp.headers["Location"]))
    assert "Импорт закончен" in page and "не номер" in page
    assert sorted(e["channel"] for e in entries(owner, store)) == ["viber", "viber"]
    resp = post(owner, "/cabinet/stoplists/import", {"channel": "sms"},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 422 and "Выберите файл." in text(resp)


def test_a_viewer_reads_but_cannot_change(client, store):
    client.post("/v1/stoplist/entries", json={"phone": "+375291234567"}, headers=store["headers"])
    sign_in(client, VIEWER)
    page = client.get("/cabinet/stoplists")
    assert page.status_code == 200 and "+375291234567" in text(page)
    assert "Добавить в стоп-лист" not in text(page)
    entry_id = entries(client, store)[0]["id"]
    for path, data in (
        ("/cabinet/stoplists/add", {"numbers": "+375291234569", "channel": "sms"}),
        ("/cabinet/stoplists/delete", {"ids": str(entry_id)}),
        ("/cabinet/stoplists/clear", {"confirm_token": "x"}),
    ):
        assert post(client, path, data).status_code == 403, path
    assert client.get("/cabinet/stoplists/clear").status_code == 403
    assert len(entries(client, store)) == 1


def test_another_stores_entries_are_not_deleted(owner, client, rt):
    other = make_tenant(rt, "Другой", "BY")
    made = client.post("/v1/stoplist/entries", json={"phone": "+375291234567"},
                       headers=other["headers"])  # fmt: skip
    post(owner, "/cabinet/stoplists/delete", {"ids": str(made.get_json()["id"])})
    assert len(entries(client, other)) == 1
    assert "+375291234567" not in text(owner.get("/cabinet/stoplists"))
