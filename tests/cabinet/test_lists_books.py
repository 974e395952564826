"""Address books in the cabinet through HTTP: create, rename, add, search (Cyrillic), upload
with the per-row report (inline and as a worker's job with progress), download, delete with
confirmation; bad input is a 4xx page with nothing written; a viewer gets 403; another store's
book is a 404 page; names are shown escaped."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.support.factories import make_tenant, run_worker

OWNER = "+375291111111"
VIEWER = "+375292222222"
HOSTILE = '<script>alert("x")</script>'


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


def books(client, store):
    return client.get("/v1/books", headers=store["headers"]).get_json()["items"]


def contacts(client, store, book_id, q=""):
    url = f"/v1/books/{book_id}/contacts" + (f"?q={q}" if q else "")
    return client.get(url, headers=store["headers"]).get_json()["items"]


def xlsx(rows):
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def book_id_of(resp):
    return int(re.search(r"/cabinet/books/(\d+)", resp.headers["Location"]).group(1))


def test_create_rename_add_search_and_delete_a_book(owner, store):
    resp = post(owner, "/cabinet/books/new", {"name": "Клиенты"})
    assert resp.status_code == 302
    book_id = book_id_of(resp)
    page = text(owner.get(f"/cabinet/books/{book_id}"))
    assert "Адресная книга создана." in page and "Клиенты" in page
    # the same name again: a 409 page with the error, nothing written
    resp = post(owner, "/cabinet/books/new", {"name": "Клиенты"})
    assert resp.status_code == 409 and "Адресная книга с таким названием уже есть." in text(resp)
    assert len(books(owner, store)) == 1
    resp = post(owner, "/cabinet/books/new", {"name": "  "})
    assert resp.status_code == 422 and 'aria-invalid="true"' in text(resp)
    # add contacts, one with a hostile name, and refuse a bad number
    for phone, name in (("29 765-43-21", "Анна Петрова"), ("+375331234567", HOSTILE)):
        resp = post(owner, f"/cabinet/books/{book_id}/contacts", {"phone": phone, "name": name})
        assert resp.status_code == 302
    resp = post(owner, f"/cabinet/books/{book_id}/contacts", {"phone": "12", "name": "x"})
    assert resp.status_code == 422 and 'id="error-phone"' in text(resp)
    resp = post(owner, f"/cabinet/books/{book_id}/contacts", {"phone": "+375297654321"})
    assert resp.status_code == 409 and "Этот номер уже есть в книге." in text(resp)
    resp = post(owner, f"/cabinet/books/{book_id}/contacts",
                {"phone": "+375297654322", "birthday": "31.02.1990"})  # fmt: skip
    assert resp.status_code == 422 and 'id="error-birthday"' in text(resp)
    assert len(contacts(owner, store, book_id)) == 2
    page = text(owner.get(f"/cabinet/books/{book_id}"))
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page and HOSTILE not in page
    # Cyrillic search, any case
    found = text(owner.get(f"/cabinet/books/{book_id}?q=аННа"))
    assert "Анна Петрова" in found and "+375331234567" not in found
    assert "Никто не подходит" in text(owner.get(f"/cabinet/books/{book_id}?q=Борис"))
    # rename
    resp = post(owner, f"/cabinet/books/{book_id}/rename", {"new_name": "Постоянные"})
    assert resp.status_code == 302 and books(owner, store)[0]["name"] == "Постоянные"
    resp = post(owner, f"/cabinet/books/{book_id}/rename", {"new_name": ""})
    assert resp.status_code == 422 and books(owner, store)[0]["name"] == "Постоянные"
    # remove one contact
    contact = contacts(owner, store, book_id)[0]
    resp = post(owner, f"/cabinet/books/{book_id}/contacts/{contact['id']}/delete")
    assert resp.status_code == 302 and len(contacts(owner, store, book_id)) == 1
    # download
    csv = owner.get(f"/cabinet/books/{book_id}/export?format=csv")
    assert csv.status_code == 200 and "+375331234567" in text(csv)
    xl = owner.get(f"/cabinet/books/{book_id}/export?format=xlsx")
    assert xl.status_code == 200 and xl.data[:2] == b"PK"
    assert owner.get(f"/cabinet/books/{book_id}/export?format=pdf").status_code == 400
    # delete: a confirmation page first
    confirm = owner.get(f"/cabinet/books/{book_id}/delete")
    assert confirm.status_code == 200 and "Удалить навсегда" in text(confirm)
    assert len(books(owner, store)) == 1
    resp = post(owner, f"/cabinet/books/{book_id}/delete")
    assert resp.status_code == 302 and books(owner, store) == []


def test_upload_an_xlsx_shows_the_per_row_report(owner, store):
    data = xlsx([["Телефон", "Имя"], ["+375291234567", "Ольга"], ["12345", "Плохой"],
                 ["+375297777777", "Ёжик"]])  # fmt: skip
    resp = post(owner, "/cabinet/books/upload",
                {"upload_name": "Из файла", "file": (data, "clients.xlsx")},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 302 and "/cabinet/imports/" in resp.headers["Location"]
    page = text(owner.get(resp.headers["Location"]))
    assert "Импорт закончен" in page and "12345" in page
    [book] = books(owner, store)
    assert book["name"] == "Из файла" and book["contacts"] == 2 and book["status"] == "ready"


def test_a_big_upload_runs_as_a_job_with_progress(owner, store, rt, monkeypatch):
    from relay.contacts import imports

    monkeypatch.setattr(imports, "INLINE_MAX_ROWS", 2)
    data = "phone,name\n+375291234567,Ольга\n+375297777777,Пётр\n".encode()
    resp = post(owner, "/cabinet/books/upload",
                {"upload_name": "Большая", "file": (io.BytesIO(data), "big.csv")},
                content_type="multipart/form-data")  # fmt: skip
    location = resp.headers["Location"]
    page = text(owner.get(location))
    assert "data-refresh" in page and "Файл загружается" in page and 'class="meter"' in page
    run_worker(rt)
    page = text(owner.get(location))
    assert "Импорт закончен" in page and "data-refresh" not in page
    assert books(owner, store)[0]["contacts"] == 2


def test_bad_uploads_are_4xx_pages_and_import_nothing(owner, store, rt):
    resp = post(owner, "/cabinet/books/upload", {"upload_name": "Пусто"},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 422 and "Выберите файл." in text(resp)
    resp = post(owner, "/cabinet/books/upload",
                {"upload_name": "Мусор", "file": (io.BytesIO(b"\x00\x01garbage"), "x.xlsx")},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 422 and 'id="error-file"' in text(resp)
    rt.config["MAX_UPLOAD_BYTES"] = 1000
    # over the limit by far: the 413 page before the form is read
    big = io.BytesIO(b"phone\n" + b"+375291234567\n" * 8000)
    form = {"upload_name": "Огромная", "file": (big, "big.csv")}
    resp = post(owner, "/cabinet/books/upload", form, content_type="multipart/form-data")
    assert resp.status_code == 413 and "<html" in text(resp)
    assert "Файл слишком большой" in text(resp) and "ничего не загружено" in text(resp)
    # over it by a little: counted while stored, the form shows why
    big = io.BytesIO(b"phone\n" + b"+375291234567\n" * 200)
    form = {"upload_name": "Большеватая", "file": (big, "big.csv")}
    resp = post(owner, "/cabinet/books/upload", form, content_type="multipart/form-data")
    assert resp.status_code == 413 and 'id="error-file"' in text(resp)
    assert books(owner, store) == []


def test_a_viewer_reads_but_gets_403_on_changes(client, store):
    made = client.post("/v1/books", json={"name": "Клиенты"}, headers=store["headers"])
    book_id = made.get_json()["id"]
    sign_in(client, VIEWER)
    page = client.get(f"/cabinet/books/{book_id}")
    assert page.status_code == 200 and "Добавить контакт" not in text(page)
    for path, data in (
        ("/cabinet/books/new", {"name": "x"}),
        (f"/cabinet/books/{book_id}/rename", {"new_name": "x"}),
        (f"/cabinet/books/{book_id}/contacts", {"phone": "+375291234567"}),
        (f"/cabinet/books/{book_id}/delete", {}),
    ):
        assert post(client, path, data).status_code == 403, path
    assert client.get(f"/cabinet/books/{book_id}/delete").status_code == 403
    assert books(client, store)[0]["name"] == "Клиенты"


def test_another_stores_book_and_import_are_404(owner, client, rt):
    other = make_tenant(rt, "Другой", "BY")
    made = client.post("/v1/books", json={"name": "Чужая"}, headers=other["headers"])
    book_id = made.get_json()["id"]
    assert owner.get(f"/cabinet/books/{book_id}").status_code == 404
    assert owner.get(f"/cabinet/books/{book_id}/export").status_code == 404
    assert post(owner, f"/cabinet/books/{book_id}/delete").status_code == 404
    add = post(owner, f"/cabinet/books/{book_id}/contacts", {"phone": "+375291234567"})
    assert add.status_code == 404
    assert owner.get("/cabinet/imports/999999").status_code == 404
