"""Tenant isolation and auth on every route of the stop-list, consent, address-book and
import modules that needs the admin scope, walking the app's URL map.

Tenant A owns a stop-list entry, a consent record, a book with a contact and an import job.
Tenant B, with a full admin key, calls every route of the blueprint aimed at A's rows: ids of A
answer 404 (never 403, which would leak that they exist), lists and exports show none of A's
rows, and afterwards A's rows are exactly as they were. A route added to those blueprints
without a case here fails the test.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from relay.storage.models import AddressBook, ConsentRecord, Contact, ImportJob, StopEntry, Tenant
from relay.tenancy.tenants import create_key
from tests.support.factories import make_tenant
from tests.support.sheets import csv_bytes

A_PHONE = "+375291234567"


def _file(phone: str = A_PHONE) -> dict[str, Any]:
    return {"file": (io.BytesIO(csv_bytes([["phone"], [phone]])), "f.csv")}


def _snapshot(rt, tenant_id: str) -> list[Any]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        out: list[Any] = []
        for model in (StopEntry, ConsentRecord, AddressBook, Contact, ImportJob):
            rows = s.scalars(select(model).where(model.tenant_id == tenant_id)).all()
            out.append(sorted(tuple(sorted(vars(r).items())[1:]) for r in rows))  # drop _sa_state
        return out


@pytest.fixture
def world(rt, client, tenant, tmp_path: Path) -> dict[str, Any]:
    """A's rows, B's key, and a key of A without the admin scope."""
    rt.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    h = tenant["headers"]
    entry = client.post("/v1/stoplist/entries", json={"phone": A_PHONE}, headers=h).get_json()
    client.post(
        "/v1/consents",
        json={"phone": A_PHONE, "granted": True, "source": "paper_form", "wording": "да"},
        headers=h,
    )
    made = client.post(
        "/v1/books/import",
        data={**_file(), "name": "A book"},
        headers=h,
        content_type="multipart/form-data",
    ).get_json()
    book_id = made["book"]["id"]
    contact_id = client.get(f"/v1/books/{book_id}/contacts", headers=h).get_json()["items"][0]["id"]
    other = make_tenant(rt, "shop-b", "BY")
    with rt.session() as s:
        _row, reader_key = create_key(s, s.get(Tenant, tenant["id"]), ["messages:read"])
        s.commit()
    return {
        "entry_id": entry["id"],
        "book_id": book_id,
        "contact_id": contact_id,
        "job_id": made["job"]["id"],
        "b": other["headers"],
        "reader": {"Authorization": f"Bearer {reader_key}"},
    }


ADMIN_LIST_MODULES = ("stoplist", "consents", "books", "imports")
Call = Callable[[Any, dict[str, Any], dict[str, str]], Any]


def _mp(client, url: str, data: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


# (method, rule) → (call with B's key, check of B's answer)
CASES: dict[tuple[str, str], tuple[Call, Callable[[Any, dict[str, Any]], bool]]] = {
    ("GET", "/v1/stoplist/entries"): (
        lambda c, w, h: c.get(f"/v1/stoplist/entries?phone={A_PHONE}", headers=h),
        lambda r, w: r.status_code == 200 and r.get_json()["items"] == [],
    ),
    ("POST", "/v1/stoplist/entries"): (
        lambda c, w, h: c.post("/v1/stoplist/entries", json={"phone": A_PHONE}, headers=h),
        lambda r, w: r.status_code == 201 and r.get_json()["id"] != w["entry_id"],
    ),
    ("POST", "/v1/stoplist/entries/delete"): (
        lambda c, w, h: c.post(
            "/v1/stoplist/entries/delete", json={"ids": [w["entry_id"]]}, headers=h
        ),
        lambda r, w: r.get_json() == {"deleted": [], "not_found": [w["entry_id"]]},
    ),
    ("POST", "/v1/stoplist/clear"): (
        lambda c, w, h: c.post(
            "/v1/stoplist/clear",
            json={
                "confirm_token": c.post("/v1/stoplist/clear", json={}, headers=h).get_json()[
                    "confirm_token"
                ]
            },
            headers=h,
        ),
        lambda r, w: r.status_code == 200,
    ),
    ("GET", "/v1/stoplist/export"): (
        lambda c, w, h: c.get("/v1/stoplist/export", headers=h),
        lambda r, w: A_PHONE.encode() not in r.data,
    ),
    ("POST", "/v1/stoplist/import"): (
        lambda c, w, h: _mp(c, "/v1/stoplist/import", _file(), h),
        lambda r, w: r.status_code == 200 and r.get_json()["job"]["id"] != w["job_id"],
    ),
    ("GET", "/v1/imports/<int:job_id>"): (
        lambda c, w, h: c.get(f"/v1/imports/{w['job_id']}", headers=h),
        lambda r, w: r.status_code == 404,
    ),
    ("POST", "/v1/consents"): (
        lambda c, w, h: c.post(
            "/v1/consents",
            json={"phone": A_PHONE, "granted": False, "source": "crm_field"},
            headers=h,
        ),
        lambda r, w: r.status_code == 201,
    ),
    ("GET", "/v1/consents"): (
        lambda c, w, h: c.get(f"/v1/consents?phone={A_PHONE}", headers=h),
        lambda r, w: all(i["granted"] is False for i in r.get_json()["items"]),
    ),
    ("GET", "/v1/consents/current"): (
        lambda c, w, h: c.get(f"/v1/consents/current?phone={A_PHONE}", headers=h),
        lambda r, w: r.get_json()["current"]["viber"] is None,
    ),
    ("GET", "/v1/consents/evidence"): (
        lambda c, w, h: c.get(f"/v1/consents/evidence?phone={A_PHONE}", headers=h),
        lambda r, w: all(rec["wording"] != "да" for rec in r.get_json()["records"]),
    ),
    ("POST", "/v1/consents/import"): (
        lambda c, w, h: _mp(c, "/v1/consents/import", {**_file(), "wording": "B"}, h),
        lambda r, w: r.status_code == 200,
    ),
    ("POST", "/v1/books"): (
        lambda c, w, h: c.post("/v1/books", json={"name": "A book"}, headers=h),
        lambda r, w: r.status_code == 201 and r.get_json()["id"] != w["book_id"],
    ),
    ("POST", "/v1/books/import"): (
        lambda c, w, h: _mp(c, "/v1/books/import", {**_file(), "name": "B import"}, h),
        lambda r, w: r.status_code == 201,
    ),
    ("GET", "/v1/books"): (
        lambda c, w, h: c.get("/v1/books", headers=h),
        lambda r, w: w["book_id"] not in [b["id"] for b in r.get_json()["items"]],
    ),
    ("GET", "/v1/books/<int:book_id>"): (
        lambda c, w, h: c.get(f"/v1/books/{w['book_id']}", headers=h),
        lambda r, w: r.status_code == 404,
    ),
    ("PATCH", "/v1/books/<int:book_id>"): (
        lambda c, w, h: c.patch(f"/v1/books/{w['book_id']}", json={"name": "x"}, headers=h),
        lambda r, w: r.status_code == 404,
    ),
    ("DELETE", "/v1/books/<int:book_id>"): (
        lambda c, w, h: c.delete(f"/v1/books/{w['book_id']}", headers=h),
        lambda r, w: r.status_code == 404,
    ),
    ("GET", "/v1/books/<int:book_id>/contacts"): (
        lambda c, w, h: c.get(f"/v1/books/{w['book_id']}/contacts", headers=h),
        lambda r, w: r.status_code == 404,
    ),
    ("POST", "/v1/books/<int:book_id>/contacts"): (
        lambda c, w, h: c.post(
            f"/v1/books/{w['book_id']}/contacts", json={"phone": A_PHONE}, headers=h
        ),
        lambda r, w: r.status_code == 404,
    ),
    ("DELETE", "/v1/books/<int:book_id>/contacts/<int:contact_id>"): (
        lambda c, w, h: c.delete(f"/v1/books/{w['book_id']}/contacts/{w['contact_id']}", headers=h),
        lambda r, w: r.status_code == 404,
    ),
    ("GET", "/v1/books/<int:book_id>/export"): (
        lambda c, w, h: c.get(f"/v1/books/{w['book_id']}/export", headers=h),
        lambda r, w: r.status_code == 404,
    ),
}


def _routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ADMIN_LIST_MODULES
        and rule.endpoint != "stoplist.get_stoplist"  # the public look-up: messages:read
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_an_isolation_case(app):
    assert _routes(app) == set(CASES)


def test_another_tenant_can_neither_read_nor_change_anything(rt, app, client, tenant, world):
    before = _snapshot(rt, tenant["id"])
    for (method, rule), (call, check) in sorted(CASES.items()):
        resp = call(client, world, world["b"])
        assert resp.status_code < 500, (method, rule)
        assert check(resp, world), (method, rule, resp.status_code, resp.data[:300])
        if resp.status_code == 404:
            assert resp.get_json()["error"]["code"].endswith("not_found"), (method, rule)
    assert _snapshot(rt, tenant["id"]) == before
    # B's own book can't reach A's contact either
    b_book = client.post("/v1/books", json={"name": "B own"}, headers=world["b"]).get_json()["id"]
    resp = client.delete(f"/v1/books/{b_book}/contacts/{world['contact_id']}", headers=world["b"])
    assert resp.status_code == 404
    assert _snapshot(rt, tenant["id"]) == before


def test_every_route_needs_a_key_with_the_admin_scope(app, client, tenant, world):
    for method, rule in sorted(_routes(app)):
        url = (
            rule.replace("<int:job_id>", str(world["job_id"]))
            .replace("<int:book_id>", str(world["book_id"]))
            .replace("<int:contact_id>", str(world["contact_id"]))
        )
        anonymous = client.open(url, method=method)
        assert (anonymous.status_code, anonymous.get_json()["error"]["code"]) == (
            401,
            "unauthorized",
        ), (method, rule)
        reader = client.open(url, method=method, headers=world["reader"])
        assert (reader.status_code, reader.get_json()["error"]["code"]) == (
            403,
            "insufficient_scope",
        ), (method, rule)


def test_openapi_documents_every_admin_list_route(app, client):
    doc = client.get("/openapi.json").get_json()
    for method, rule in _routes(app):
        path = rule.replace("<int:", "{").replace(">", "}")
        op = doc["paths"][path][method.lower()]
        assert op["security"] == [{"tenantKey": []}], (method, rule)
        assert "admin" in op["description"] and op["summary"], (method, rule)
