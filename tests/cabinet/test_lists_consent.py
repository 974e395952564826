"""Consent in the cabinet through HTTP: the ledger with wording, source, IP and time, one
number's state per channel, the evidence export; a bad number is a 4xx page; another store's
records never show."""

from __future__ import annotations

import io
import json

import pytest

from tests.cabinet.helpers import add_user, csrf, post, sign_in, text
from tests.support.factories import make_tenant

OWNER = "+375291111111"
WORDING = "Согласен получать SMS об акциях <b>магазина</b>. Отказ: STOP"


@pytest.fixture
def store(rt):
    t = make_tenant(rt, "Цветы у дома", "BY")
    add_user(rt, t["id"], OWNER, "viewer")
    return t


def record(client, store, phone, granted, channel="sms", source="checkout_checkbox"):
    body = {"phone": phone, "granted": granted, "channel": channel, "source": source,
            "wording": WORDING, "ip": "203.0.113.7"}  # fmt: skip
    resp = client.post("/v1/consents", json=body, headers=store["headers"])
    assert resp.status_code == 201, resp.get_json()


def test_the_ledger_a_numbers_state_and_its_evidence(client, store, rt):
    record(client, store, "+375291234567", True, "sms")
    record(client, store, "+375291234567", False, "viber")
    record(client, store, "+375297777777", True, "sms")
    other = make_tenant(rt, "Другой", "BY")
    record(client, other, "+375295555555", True)
    sign_in(client, OWNER)
    page = text(client.get("/cabinet/consent"))
    assert "+375291234567" in page and "+375297777777" in page and "+375295555555" not in page
    assert "203.0.113.7" in page and "&lt;b&gt;магазина&lt;/b&gt;" in page
    one = client.get("/cabinet/consent?phone=29 123-45-67")
    body = text(one)
    assert one.status_code == 200 and "Действует сейчас для +375291234567" in body
    assert "+375297777777" not in body
    assert "согласие дано" in body and "согласие отозвано" in body
    bad = client.get("/cabinet/consent?phone=абв")
    assert bad.status_code == 422 and 'id="error-phone"' in text(bad)
    doc = client.get("/cabinet/consent/evidence?phone=%2B375291234567&format=json")
    assert doc.status_code == 200
    data = json.loads(doc.data)
    assert data["phone"] == "+375291234567" and len(data["records"]) == 2
    assert data["current"]["sms"]["granted"] is True
    xl = client.get("/cabinet/consent/evidence?phone=%2B375291234567&format=xlsx")
    assert xl.status_code == 200 and xl.data[:2] == b"PK"
    csv = client.get("/cabinet/consent/evidence?phone=%2B375291234567&format=csv")
    assert "checkout_checkbox" in text(csv)
    assert client.get("/cabinet/consent/evidence?phone=x&format=csv").status_code == 400
    # another store's number has no records here
    empty = json.loads(
        client.get("/cabinet/consent/evidence?phone=%2B375295555555&format=json").data
    )
    assert empty["records"] == []


def test_import_consent_from_a_file_with_the_wording_and_its_report(client, rt):
    store = make_tenant(rt, "Цветы у дома", "BY")
    add_user(rt, store["id"], "+375292222222", "manager")
    add_user(rt, store["id"], OWNER, "viewer")
    data = "Телефон,Дата согласия\n+375291234567,2026-01-10 12:00\nне номер,\n".encode()
    sign_in(client, "+375292222222")
    assert "Загрузить согласия из файла" in text(client.get("/cabinet/consent"))
    # without the wording nothing is imported and the form says what to do
    resp = post(client, "/cabinet/consent/import",
                {"wording": " ", "file": (io.BytesIO(data), "consent.csv")},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 422 and 'id="error-wording"' in text(resp)
    api = client.get("/v1/consents", headers=store["headers"]).get_json()
    assert api["items"] == []
    resp = post(client, "/cabinet/consent/import",
                {"wording": WORDING, "import_channel": "sms",
                 "file": (io.BytesIO(data), "consent.csv")},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 302
    report = text(client.get(resp.headers["Location"]))
    assert "не номер" in report and "Назад к журналу согласий" in report
    items = client.get("/v1/consents", headers=store["headers"]).get_json()["items"]
    assert [(r["phone"], r["granted"], r["channel"], r["source"], r["wording"]) for r in items] == [
        ("+375291234567", True, "sms", "import", WORDING)
    ]
    # a viewer reads the ledger but cannot import
    client.post("/cabinet/signout", data={"csrf_token": csrf(client, "/cabinet/")})
    sign_in(client, OWNER)
    assert "Загрузить согласия из файла" not in text(client.get("/cabinet/consent"))
    resp = post(client, "/cabinet/consent/import",
                {"wording": WORDING, "file": (io.BytesIO(data), "consent.csv")},
                content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 403
