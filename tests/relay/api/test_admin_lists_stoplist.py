"""Stop-list administration over HTTP: search, add, delete, delete-all, export, import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from relay.storage.models import AuditEntry, StopEntry
from tests.support.sheets import csv_bytes, xlsx_bytes


@pytest.fixture(autouse=True)
def uploads(rt, tmp_path: Path) -> Path:
    """Uploads go to a per-test directory, which must be empty again after every request."""
    path = tmp_path / "uploads"
    rt.config["UPLOAD_DIR"] = str(path)
    return path


def add(client, tenant, phone: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/stoplist/entries", json={"phone": phone, **extra}, headers=tenant["headers"]
    )


def upload(client, tenant, url: str, data: bytes, name: str, **form):  # type: ignore[no-untyped-def]
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name), **form},
        headers=tenant["headers"],
        content_type="multipart/form-data",
    )


def audit_actions(rt) -> list[str]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_add_normalises_the_number_is_idempotent_and_audited(rt, client, tenant):
    first = add(client, tenant, "8 029 123-45-67", channel="sms", note="жалоба")
    again = add(client, tenant, "+375291234567", channel="sms")
    assert (first.status_code, again.status_code) == (201, 200)
    body = first.get_json()
    assert (body["phone"], body["channel"], body["source"], body["note"]) == (
        "+375291234567",
        "sms",
        "admin",
        "жалоба",
    )
    assert again.get_json()["id"] == body["id"]
    assert audit_actions(rt) == ["stoplist.add"]
    # the public read-only lookup still answers
    public = client.get("/v1/stoplist?phone=80291234567", headers=tenant["headers"]).get_json()
    assert [e["source"] for e in public["items"]] == ["admin"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phone": "12-34"}, "invalid_phone"),
        ({"phone": "+1 202 555 0143"}, "unsupported_country"),
        ({"phone": "+375291234567", "channel": "telegram"}, "validation_error"),
        ({"phone": "+375291234567", "extra": 1}, "validation_error"),
    ],
)
def test_bad_entries_are_422_and_write_nothing(rt, client, tenant, body, code):
    resp = client.post("/v1/stoplist/entries", json=body, headers=tenant["headers"])
    assert (resp.status_code, resp.get_json()["error"]["code"]) == (422, code)
    with rt.session() as s:
        assert s.scalars(select(StopEntry)).all() == []


def test_search_filters_and_pages_newest_first(client, tenant):
    for i in range(5):
        add(client, tenant, f"+37529{1000000 + i}", channel="sms" if i % 2 else "viber")
    add(client, tenant, "+375447777777", note="VIP жалоба")
    h = tenant["headers"]
    first = client.get("/v1/stoplist/entries?limit=4", headers=h).get_json()
    second = client.get(
        f"/v1/stoplist/entries?limit=4&cursor={first['next_cursor']}", headers=h
    ).get_json()
    phones = [e["phone"] for e in first["items"] + second["items"]]
    assert phones[0] == "+375447777777" and len(phones) == 6 and len(set(phones)) == 6
    assert second["next_cursor"] is None
    sms = client.get("/v1/stoplist/entries?channel=sms", headers=h).get_json()["items"]
    assert {e["phone"] for e in sms} == {"+375291000001", "+375291000003"}
    by_note = client.get("/v1/stoplist/entries?q=VIP", headers=h).get_json()["items"]
    by_digits = client.get("/v1/stoplist/entries?q=1000003", headers=h).get_json()["items"]
    exact = client.get("/v1/stoplist/entries?phone=80291000002", headers=h).get_json()["items"]
    assert [e["phone"] for e in by_note] == ["+375447777777"]
    assert [e["phone"] for e in by_digits] == ["+375291000003"]
    assert [e["phone"] for e in exact] == ["+375291000002"]
    bad = client.get("/v1/stoplist/entries?limit=501", headers=h)
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_query")


def test_delete_selected_removes_only_own_ids(rt, client, tenant):
    ids = [add(client, tenant, f"+37529{1000000 + i}").get_json()["id"] for i in range(3)]
    resp = client.post(
        "/v1/stoplist/entries/delete",
        json={"ids": [ids[0], ids[2], 999999]},
        headers=tenant["headers"],
    )
    assert resp.get_json() == {"deleted": [ids[0], ids[2]], "not_found": [999999]}
    with rt.session() as s:
        assert list(s.scalars(select(StopEntry.id))) == [ids[1]]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "stoplist.delete")).one()
    assert [e["id"] for e in entry.before["entries"]] == [ids[0], ids[2]]


def test_delete_all_needs_a_fresh_matching_confirmation_token(rt, client, tenant, clock):
    h = tenant["headers"]
    for i in range(3):
        add(client, tenant, f"+37529{1000000 + i}")
    ask = client.post("/v1/stoplist/clear", json={}, headers=h).get_json()
    assert ask["count"] == 3
    token = ask["confirm_token"]
    expires, count, digest = token.split(".")
    forged = f"{expires}.{int(count) + 1}.{digest}"
    wrong = client.post("/v1/stoplist/clear", json={"confirm_token": forged}, headers=h)
    assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (422, "invalid_confirmation")
    other_channel = client.post(
        "/v1/stoplist/clear", json={"confirm_token": token, "channel": "sms"}, headers=h
    )
    assert other_channel.get_json()["error"]["code"] == "invalid_confirmation"
    add(client, tenant, "+375449999999")  # a STOP arrived meanwhile: the token no longer fits
    stale = client.post("/v1/stoplist/clear", json={"confirm_token": token}, headers=h)
    assert (stale.status_code, stale.get_json()["error"]["code"]) == (409, "confirmation_stale")
    token = client.post("/v1/stoplist/clear", json={}, headers=h).get_json()["confirm_token"]
    clock.advance(minutes=6)
    late = client.post("/v1/stoplist/clear", json={"confirm_token": token}, headers=h)
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "confirmation_expired")
    with rt.session() as s:
        assert len(s.scalars(select(StopEntry)).all()) == 4  # nothing deleted so far
    token = client.post("/v1/stoplist/clear", json={}, headers=h).get_json()["confirm_token"]
    done = client.post("/v1/stoplist/clear", json={"confirm_token": token}, headers=h)
    assert done.get_json() == {"deleted": 4, "channel": None}
    with rt.session() as s:
        assert s.scalars(select(StopEntry)).all() == []
    assert audit_actions(rt)[-1] == "stoplist.clear"


def test_export_csv_and_xlsx_hold_every_entry(client, tenant):
    add(client, tenant, "+375291234567", note='=HYPERLINK("http://x")')
    add(client, tenant, "+375297654321", channel="viber")
    h = tenant["headers"]
    resp = client.get("/v1/stoplist/export?format=csv", headers=h)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="stoplist.csv"' in resp.headers["Content-Disposition"]
    lines = resp.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "phone,channel,source,note,created_at"
    assert lines[1].startswith("+375291234567,all,admin,\"'=HYPERLINK(")
    assert lines[2].startswith("+375297654321,viber,admin,,2026-01-15T12:00:00")
    xlsx = client.get("/v1/stoplist/export?format=xlsx&channel=viber", headers=h)
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("+375297654321", "viber", "admin") and len(rows) == 2
    bad = client.get("/v1/stoplist/export?format=pdf", headers=h)
    assert bad.status_code == 400


def test_import_russian_excel_csv_with_report_and_policy_effect(rt, client, tenant, uploads):
    rows = [
        ["Телефон", "Канал", "Комментарий"],
        ["8 029 123-45-67", "sms", "жалоба"],
        ["+375 29 765-43-21", "", ""],
        ["12-34", "", ""],
        ["80291234567", "sms", "дубль"],
        ["+375291111111", "telegram", ""],
    ]
    data = csv_bytes(rows, encoding="cp1251", delimiter=";")
    resp = upload(client, tenant, "/v1/stoplist/import", data, "stop.csv", channel="viber")
    assert resp.status_code == 200
    job = resp.get_json()["job"]
    assert (job["status"], job["accepted"], job["rejected"]) == ("done", 2, 3)
    assert [(r["row"], r["reason"]) for r in job["report"]["rows"]] == [
        (4, "invalid_phone"),
        (5, "duplicate_in_file"),
        (6, "invalid_channel"),
    ]
    with rt.session() as s:
        entries = s.execute(select(StopEntry.phone, StopEntry.channel, StopEntry.source)).all()
    assert sorted(entries) == [
        ("+375291234567", "sms", "import"),
        ("+375297654321", "viber", "import"),
    ]
    explain = client.post(
        "/v1/policy/explain",
        json={"phone": "+375291234567", "channel": "sms"},
        headers=tenant["headers"],
    ).get_json()
    assert explain["decision"] == "block" and "stop_list" in str(explain["reasons"])
    assert list(uploads.iterdir()) == []
    assert client.get(f"/v1/imports/{job['id']}", headers=tenant["headers"]).get_json() == job


def test_import_of_an_xlsx_without_header(client, tenant):
    data = xlsx_bytes([["+375291234567"], [375297654321]])
    job = upload(client, tenant, "/v1/stoplist/import", data, "s.xlsx").get_json()["job"]
    assert (job["accepted"], job["rejected"]) == (2, 0)
