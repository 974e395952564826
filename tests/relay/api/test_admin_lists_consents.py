"""The consent ledger over HTTP: record, current state, evidence export, bulk import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from relay.storage.models import AuditEntry, ConsentRecord
from tests.support.factories import run_worker
from tests.support.sheets import csv_bytes

PHONE = "+375291234567"
WORDING = "Согласен получать SMS о скидках и акциях магазина shop.example.by"


@pytest.fixture(autouse=True)
def uploads(rt, tmp_path: Path) -> Path:
    """A per-test upload directory."""
    rt.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def consent(client, tenant, **body):  # type: ignore[no-untyped-def]
    payload = {"phone": PHONE, "granted": True, "source": "paper_form", "wording": WORDING}
    return client.post("/v1/consents", json={**payload, **body}, headers=tenant["headers"])


def event(client, tenant, event_id: str, etype: str, at: str, **blocks):  # type: ignore[no-untyped-def]
    body = {
        "event_id": event_id,
        "type": etype,
        "occurred_at": at,
        "source": {"platform": "woocommerce", "account": "shop.example.by"},
        "customer": {"phone": "+375 29 123-45-67", "name": "Анна"},
        **blocks,
    }
    resp = client.post("/v1/events", json=body, headers=tenant["headers"])
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()


def test_a_grant_needs_wording_and_the_ledger_only_grows(rt, client, tenant, clock):
    missing = consent(client, tenant, wording=None)
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (422, "wording_required")
    granted = consent(
        client,
        tenant,
        phone="80291234567",
        ip="203.0.113.7",
        captured_at="2026-01-15T14:00:00+03:00",
    )
    assert granted.status_code == 201
    body = granted.get_json()
    assert (body["phone"], body["channel"], body["ip"], body["captured_at"]) == (
        PHONE,
        "all",
        "203.0.113.7",
        "2026-01-15T11:00:00+00:00",
    )
    clock.advance(minutes=1)
    revoked = consent(
        client, tenant, granted=False, wording=None, channel="sms", source="crm_field"
    )
    assert revoked.status_code == 201
    view = client.get(f"/v1/consents?phone={PHONE}", headers=tenant["headers"]).get_json()
    assert set(view) == {"items", "next_cursor"}
    assert [r["granted"] for r in view["items"]] == [False, True]  # newest first
    now = client.get(f"/v1/consents/current?phone={PHONE}", headers=tenant["headers"]).get_json()
    assert now["phone"] == PHONE
    assert now["current"]["sms"]["granted"] is False
    assert now["current"]["viber"]["granted"] is True
    with rt.session() as s:
        assert len(s.scalars(select(ConsentRecord)).all()) == 2
        assert list(s.scalars(select(AuditEntry.action))) == ["consent.grant", "consent.revoke"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "telepathy"}, "source"),
        ({"ip": "999.0.0.1"}, "ip"),
        ({"captured_at": "2026-01-15T14:00:00"}, "captured_at"),
        ({"granted": "yes"}, "granted"),
        ({"channel": "telegram"}, "channel"),
    ],
)
def test_bad_consent_fields_are_422_naming_the_field(client, tenant, body, field):
    resp = consent(client, tenant, **body)
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["fields"]


def test_a_number_never_asked_has_no_current_consent(client, tenant):
    view = client.get(f"/v1/consents?phone={PHONE}", headers=tenant["headers"]).get_json()
    assert view == {"items": [], "next_cursor": None}
    now = client.get(f"/v1/consents/current?phone={PHONE}", headers=tenant["headers"]).get_json()
    assert now == {"phone": PHONE, "current": {"sms": None, "viber": None}}
    bad = client.get("/v1/consents/current?phone=12", headers=tenant["headers"])
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_query")


def test_evidence_export_has_checkout_wording_ip_and_the_messages_that_relied_on_it(
    rt, client, tenant, clock
):
    event(
        client,
        tenant,
        "consent-1",
        "consent.granted",
        "2026-01-15T14:58:00+03:00",
        consent={
            "purpose": "marketing",
            "channel": "sms",
            "granted": True,
            "source": "checkout_checkbox",
            "wording": WORDING,
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "captured_at": "2026-01-15T14:57:30+03:00",
        },
    )
    clock.advance(minutes=10)
    promo = event(
        client,
        tenant,
        "promo-1",
        "message.requested",
        "2026-01-15T15:10:00+03:00",
        message={"text": "Скидка 20% на всё до воскресенья", "category": "marketing"},
    )["messages"][0]
    event(
        client,
        tenant,
        "note-1",
        "message.requested",
        "2026-01-15T15:10:00+03:00",
        message={"text": "Ваш заказ готов", "category": "transactional"},
    )
    run_worker(rt)
    clock.advance(minutes=10)
    consent(client, tenant, granted=False, wording=None, channel="sms", source="crm_field")
    blocked = event(
        client,
        tenant,
        "promo-2",
        "message.requested",
        "2026-01-15T15:30:00+03:00",
        message={"text": "Ещё скидка", "category": "marketing"},
    )["messages"][0]
    assert blocked["status"] == "blocked"

    h = tenant["headers"]
    doc = client.get(f"/v1/consents/evidence?phone={PHONE}", headers=h).get_json()
    grant, revoke = doc["records"]
    assert (grant["source"], grant["wording"], grant["ip"]) == (
        "checkout_checkbox",
        WORDING,
        "203.0.113.7",
    )
    assert grant["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64)"
    assert grant["captured_at"] == "2026-01-15T11:57:30+00:00" and grant["event_id"] == "consent-1"
    assert [(m["id"], m["status"]) for m in grant["messages"]] == [(promo["id"], "delivered")]
    assert grant["messages"][0]["text"].startswith("Скидка 20%")
    assert revoke["granted"] is False and revoke["messages"] == []
    assert doc["messages_without_grant"] == []
    assert doc["current"]["sms"]["granted"] is False

    text = client.get(f"/v1/consents/evidence?phone={PHONE}&format=csv", headers=h).data
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0]["wording"] == WORDING and rows[0]["ip"] == "203.0.113.7"
    assert rows[0]["message_id"] == promo["id"] and rows[1]["granted"] == "false"

    xlsx = client.get(f"/v1/consents/evidence?phone={PHONE}&format=xlsx", headers=h)
    book = load_workbook(io.BytesIO(xlsx.data))
    consents = list(book["consents"].iter_rows(values_only=True))
    assert consents[0][:7] == (
        "record_id",
        "granted",
        "purpose",
        "channel",
        "source",
        "wording",
        "ip",
    )
    assert consents[1][5:7] == (WORDING, "203.0.113.7")
    messages = list(book["messages"].iter_rows(values_only=True))
    assert messages[1][:2] == (grant["id"], promo["id"])


def test_consent_import_requires_the_wording_shown(rt, client, tenant, uploads):
    data = csv_bytes([["phone", "согласие"], [PHONE, "да"], ["80297654321", "нет"], ["bad", ""]])

    def post(**form):  # type: ignore[no-untyped-def]
        return client.post(
            "/v1/consents/import",
            data={"file": (io.BytesIO(data), "c.csv"), **form},
            headers=tenant["headers"],
            content_type="multipart/form-data",
        )

    missing = post()
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (422, "wording_required")
    assert list(uploads.iterdir()) == []
    job = post(wording=WORDING, channel="sms").get_json()["job"]
    assert (job["accepted"], job["rejected"]) == (2, 1)
    assert job["report"]["rows"] == [{"row": 4, "value": "bad", "reason": "invalid_phone"}]
    with rt.session() as s:
        rows = s.execute(
            select(
                ConsentRecord.phone,
                ConsentRecord.granted,
                ConsentRecord.channel,
                ConsentRecord.source,
                ConsentRecord.wording,
            ).order_by(ConsentRecord.phone)
        ).all()
    assert rows == [
        (PHONE, True, "sms", "import", WORDING),
        ("+375297654321", False, "sms", "import", WORDING),
    ]
    listed = client.get("/v1/consents?source=import", headers=tenant["headers"]).get_json()
    assert len(listed["items"]) == 2 and listed["next_cursor"] is None
