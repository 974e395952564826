"""Address books over HTTP: CRUD, contacts, uploads (good, bad, big), downloads."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from relay.contacts import imports
from relay.storage.models import AddressBook, AuditEntry, Contact, ImportJob
from tests.support.factories import run_worker
from tests.support.sheets import csv_bytes, xlsx_bytes

HEADER = ["Телефон", "ФИО", "Дата рождения", "Город", "Карта"]


@pytest.fixture(autouse=True)
def uploads(rt, tmp_path: Path) -> Path:
    """A per-test upload directory; every test checks nothing is left in it."""
    path = tmp_path / "uploads"
    rt.config["UPLOAD_DIR"] = str(path)
    yield path
    assert not path.exists() or list(path.iterdir()) == []


def post_file(client, tenant, data: bytes, filename: str, name: str | None = "Клиенты"):  # type: ignore[no-untyped-def]
    form = {"file": (io.BytesIO(data), filename)}
    if name is not None:
        form["name"] = name
    return client.post(
        "/v1/books/import", data=form, headers=tenant["headers"], content_type="multipart/form-data"
    )


def counts(rt) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(m)) for m in (AddressBook, Contact, ImportJob)
        )


def test_book_crud_with_unique_names_and_audit(rt, client, tenant):
    h = tenant["headers"]
    book = client.post("/v1/books", json={"name": "VIP"}, headers=h)
    assert book.status_code == 201
    book_id = book.get_json()["id"]
    dup = client.post("/v1/books", json={"name": "VIP"}, headers=h)
    assert (dup.status_code, dup.get_json()["error"]["code"]) == (409, "book_name_taken")
    client.post("/v1/books", json={"name": "Опт"}, headers=h)
    renamed = client.patch(f"/v1/books/{book_id}", json={"name": "VIP 2026"}, headers=h)
    assert renamed.get_json()["name"] == "VIP 2026"
    taken = client.patch(f"/v1/books/{book_id}", json={"name": "Опт"}, headers=h)
    assert taken.status_code == 409
    listed = client.get("/v1/books?limit=1", headers=h).get_json()
    assert [b["name"] for b in listed["items"]] == ["Опт"] and listed["next_cursor"]
    assert client.get(f"/v1/books/{book_id}", headers=h).get_json()["contacts"] == 0
    assert client.delete(f"/v1/books/{book_id}", headers=h).status_code == 204
    assert client.get(f"/v1/books/{book_id}", headers=h).status_code == 404
    empty = client.post("/v1/books", json={"name": ""}, headers=h)
    assert empty.status_code == 422
    with rt.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["book.create", "book.create", "book.rename", "book.delete"]


def test_contacts_added_by_hand_searched_and_removed(rt, client, tenant):
    h = tenant["headers"]
    book_id = client.post("/v1/books", json={"name": "B"}, headers=h).get_json()["id"]
    url = f"/v1/books/{book_id}/contacts"
    anna = client.post(
        url,
        json={
            "phone": "8 029 111-11-11",
            "name": "Анна",
            "birthday": "17.05.1990",
            "fields": {"card": "7"},
        },
        headers=h,
    )
    assert anna.status_code == 201
    assert (anna.get_json()["phone"], anna.get_json()["birthday"]) == (
        "+375291111111",
        "1990-05-17",
    )
    again = client.post(url, json={"phone": "+375291111111"}, headers=h)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "contact_exists")
    bad_day = client.post(url, json={"phone": "+375292222222", "birthday": "31.02.1990"}, headers=h)
    assert bad_day.status_code == 422 and "birthday" in bad_day.get_json()["error"]["fields"]
    client.post(url, json={"phone": "+375292222222", "name": "Boris"}, headers=h)
    found = client.get(f"{url}?q=boris", headers=h).get_json()["items"]
    by_digits = client.get(f"{url}?q=111", headers=h).get_json()["items"]
    assert [c["name"] for c in found] == ["Boris"] and [c["name"] for c in by_digits] == ["Анна"]
    first = client.get(f"{url}?limit=1", headers=h).get_json()
    second = client.get(f"{url}?limit=1&cursor={first['next_cursor']}", headers=h).get_json()
    assert [c["name"] for c in first["items"] + second["items"]] == ["Анна", "Boris"]
    gone = client.delete(f"{url}/{anna.get_json()['id']}", headers=h)
    assert gone.status_code == 204
    assert client.delete(f"{url}/{anna.get_json()['id']}", headers=h).status_code == 404


def test_xlsx_upload_creates_a_ready_book_with_a_per_row_report(rt, client, tenant):
    rows = [
        HEADER,
        [375291111111, "Анна Петрова", datetime(1990, 5, 17), "Минск", 1001],
        ["+375 29 222-22-22", "Борис", "1985-12-01", "Гомель", None],
        ["12-34", "Плохой номер", None, None, None],
        ["8 029 111-11-11", "Анна (дубль)", None, None, None],
        [None, None, None, None, None],
        [None, "Без номера", None, None, None],
    ]
    resp = post_file(client, tenant, xlsx_bytes(rows), "book.xlsx")
    assert resp.status_code == 201
    book, job = resp.get_json()["book"], resp.get_json()["job"]
    assert (book["status"], book["contacts"]) == ("ready", 2)
    assert (job["status"], job["processed"], job["accepted"], job["rejected"]) == ("done", 5, 2, 3)
    assert [(r["row"], r["reason"]) for r in job["report"]["rows"]] == [
        (4, "invalid_phone"),
        (5, "duplicate_in_file"),
        (7, "empty"),
    ]
    items = client.get(f"/v1/books/{book['id']}/contacts", headers=tenant["headers"]).get_json()
    anna = items["items"][0]
    assert (anna["phone"], anna["name"], anna["birthday"]) == (
        "+375291111111",
        "Анна Петрова",
        "1990-05-17",
    )
    assert anna["fields"] == {"Город": "Минск", "Карта": "1001"}


def test_russian_excel_csv_cp1251_semicolons_is_accepted(client, tenant):
    rows = [["телефон", "имя", "дата рождения"], ["8 029 111-11-11", "Ёжик", "01.01.2000"]]
    resp = post_file(client, tenant, csv_bytes(rows, encoding="cp1251", delimiter=";"), "b.csv")
    assert resp.status_code == 201
    contact = client.get(
        f"/v1/books/{resp.get_json()['book']['id']}/contacts", headers=tenant["headers"]
    ).get_json()["items"][0]
    assert (contact["name"], contact["birthday"]) == ("Ёжик", "2000-01-01")


@pytest.mark.parametrize(
    ("data", "filename", "status", "code"),
    [
        (b"phone\n+375291111111\n", "renamed.xlsx", 422, "invalid_file"),
        (b"PK\x03\x04" + b"\0" * 200, "broken.xlsx", 422, "invalid_file"),
        (xlsx_bytes([["Имя"], ["Анна"]]), "nophone.xlsx", 422, "missing_phone_column"),
        (b"", "empty.csv", 422, "invalid_file"),
    ],
)
def test_bad_files_are_refused_and_leave_no_book(rt, client, tenant, data, filename, status, code):
    resp = post_file(client, tenant, data, filename)
    assert (resp.status_code, resp.get_json()["error"]["code"]) == (status, code)
    assert counts(rt) == (0, 0, 0)


def test_form_mistakes_are_precise(rt, client, tenant):
    h = tenant["headers"]
    client.post("/v1/books", json={"name": "Клиенты"}, headers=h)
    good = xlsx_bytes([["phone"], ["+375291111111"]])
    taken = post_file(client, tenant, good, "b.xlsx")
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "book_name_taken")
    no_name = post_file(client, tenant, good, "b.xlsx", name=None)
    assert (no_name.status_code, no_name.get_json()["error"]["code"]) == (422, "validation_error")
    no_file = client.post(
        "/v1/books/import", data={"name": "X"}, headers=h, content_type="multipart/form-data"
    )
    assert no_file.get_json()["error"]["code"] == "file_required"
    as_json = client.post("/v1/books/import", json={"name": "X"}, headers=h)
    assert (as_json.status_code, as_json.get_json()["error"]["code"]) == (415, "multipart_required")
    assert counts(rt) == (1, 0, 0)


def test_uploads_over_the_cap_are_413_file_too_large(rt, client, tenant):
    # the real 50 MB default: refused from Content-Length, before the body is parsed
    big = post_file(client, tenant, b"x" * (50 * 1024 * 1024 + 1), "big.csv")
    assert (big.status_code, big.get_json()["error"]["code"]) == (413, "file_too_large")
    # a small configured cap (RELAY_MAX_UPLOAD_BYTES)
    rt.config["MAX_UPLOAD_BYTES"] = 1000
    data = b"phone\n" + b"+375291111111\n" * 200
    small = post_file(client, tenant, data, "s.csv")
    assert small.get_json()["error"]["code"] == "file_too_large"
    assert counts(rt) == (0, 0, 0)


def test_chunked_upload_is_counted_while_streaming(rt, tenant, tmp_path):
    rt.config["MAX_UPLOAD_BYTES"] = 1000
    stream = io.BytesIO(b"phone\n" + b"+375291111111\n" * 200)
    with pytest.raises(imports.RelayError) as err:
        imports.store_upload(rt, stream, "s.csv")
    assert (err.value.status, err.value.code) == (413, "file_too_large")


def test_big_upload_is_imported_by_a_worker_with_progress(rt, client, tenant, monkeypatch):
    monkeypatch.setattr(imports, "INLINE_MAX_ROWS", 10)
    rows = [["phone", "name"]] + [[f"+37529{2000000 + i}", f"N{i}"] for i in range(2500)]
    rows.append(["+375292000000", "dup"])
    resp = post_file(client, tenant, xlsx_bytes(rows), "big.xlsx")
    assert resp.status_code == 202
    book, job = resp.get_json()["book"], resp.get_json()["job"]
    assert (book["status"], job["status"], job["total"]) == ("importing", "running", 2501)
    h = tenant["headers"]
    assert client.get(f"/v1/imports/{job['id']}", headers=h).get_json()["processed"] == 0
    run_worker(rt)
    done = client.get(f"/v1/imports/{job['id']}", headers=h).get_json()
    assert (done["status"], done["processed"], done["accepted"], done["rejected"]) == (
        "done",
        2501,
        2500,
        1,
    )
    ready = client.get(f"/v1/books/{book['id']}", headers=h).get_json()
    assert (ready["status"], ready["contacts"]) == ("ready", 2500)


def test_background_import_of_a_damaged_file_leaves_no_book(rt, client, tenant, monkeypatch):
    monkeypatch.setattr(imports, "INLINE_MAX_ROWS", 2)
    data = csv_bytes([["phone"], ["+375291111111"], ["+375292222222"]])
    data += b'"' + b"x" * 140_000 + b'"\r\n'  # over the csv module's field limit, mid-file
    resp = post_file(client, tenant, data, "s.csv")
    assert resp.status_code == 202
    run_worker(rt)
    job = client.get(f"/v1/imports/{resp.get_json()['job']['id']}", headers=tenant["headers"])
    assert job.get_json()["status"] == "failed" and "cannot be read" in job.get_json()["error"]
    assert counts(rt)[:2] == (0, 0)


def test_export_csv_and_xlsx_with_custom_fields(client, tenant):
    rows = [
        HEADER,
        ["+375291111111", "Анна", "17.05.1990", "Минск", None],
        ["+375292222222", "=1+1", None, None, "42"],
    ]
    # csv: in an xlsx, "=1+1" would be a formula; here it is text someone typed
    book_id = post_file(client, tenant, csv_bytes(rows), "b.csv").get_json()["book"]["id"]
    h = tenant["headers"]
    text = client.get(f"/v1/books/{book_id}/export?format=csv", headers=h).data.decode("utf-8-sig")
    got = list(csv.reader(io.StringIO(text)))
    assert got == [
        ["phone", "name", "birthday", "Город", "Карта"],
        ["+375291111111", "Анна", "1990-05-17", "Минск", ""],
        ["+375292222222", "'=1+1", "", "", "42"],
    ]
    xlsx = client.get(f"/v1/books/{book_id}/export?format=xlsx", headers=h)
    assert xlsx.headers["Content-Disposition"].endswith(f'book-{book_id}.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[3]] == ["+375292222222", "=1+1", None, None, "42"]
    assert sheet["B3"].data_type == "s"


def test_contact_search_folds_case_in_every_script(rt, client, tenant):
    """SQLite's LIKE/lower() fold ASCII only: the search uses a stored Unicode case-folded key,
    for contacts added by hand and imported alike."""
    h = tenant["headers"]
    book_id = client.post("/v1/books", json={"name": "B"}, headers=h).get_json()["id"]
    url = f"/v1/books/{book_id}/contacts"
    for phone_number, name in [
        ("+375291111111", "Анна"),
        ("+375292222222", "АННА ПЕТРОВА"),
        ("+375293333333", "Семён"),
        ("+375294444444", "Straße"),
        ("+375295555555", "Boris"),
    ]:
        resp = client.post(url, json={"phone": phone_number, "name": name}, headers=h)
        assert resp.status_code == 201

    def names(q: str) -> list[str]:
        return [
            c["name"] for c in client.get(url, query_string={"q": q}, headers=h).get_json()["items"]
        ]

    assert names("анна") == ["Анна", "АННА ПЕТРОВА"]
    assert names("АнНа") == ["Анна", "АННА ПЕТРОВА"]
    assert names("петров") == ["АННА ПЕТРОВА"]
    assert names("семен") == names("СЕМЁН") == ["Семён"]
    assert names("STRASSE") == ["Straße"]
    assert names("%") == []  # LIKE wildcards are plain characters
    imported = post_file(
        client, tenant, csv_bytes([["телефон", "имя"], ["+375296666666", "Ольга"]]), "b.csv"
    )
    book = imported.get_json()["book"]["id"]
    found = client.get(f"/v1/books/{book}/contacts?q=ОЛЬ", headers=h).get_json()["items"]
    assert [c["name"] for c in found] == ["Ольга"]


def test_migration_fills_the_search_key_of_existing_contacts(rt, tenant):
    from alembic import command
    from sqlalchemy import text

    from relay.storage.db import alembic_config, upgrade

    url = rt.config["DATABASE_URL"]
    rt.engine.dispose()
    command.downgrade(alembic_config(url), "0005")
    try:
        with rt.engine.begin() as conn:
            book = conn.execute(
                AddressBook.__table__.insert().values(tenant_id=tenant["id"], name="old")
            ).inserted_primary_key[0]
            conn.execute(
                text(
                    "INSERT INTO contacts (book_id, tenant_id, phone, name, created_at) VALUES "
                    "(:b, :t, '+375291111111', 'Анна', CURRENT_TIMESTAMP), "
                    "(:b, :t, '+375292222222', NULL, CURRENT_TIMESTAMP)"
                ),
                {"b": book, "t": tenant["id"]},
            )
        rt.engine.dispose()
    finally:
        upgrade(url)
    with rt.engine.connect() as conn:
        keys = conn.execute(text("SELECT name, name_key FROM contacts ORDER BY phone")).all()
    assert [tuple(k) for k in keys] == [("Анна", "анна"), (None, None)]
