"""The evidence pack of one number: JSON and PDF (Russian, English), through the API and the
CLI; every consent record, every message with its decision, zones, history and receipts, the
stop-list history, and the chain proof of each record."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from pypdf import PdfReader

from relay.compliance.digests import make_digests
from tests.relay.test_cli import relay
from tests.support.factories import run_worker

PHONE = "+375291234567"
WORDING = "Согласен получать SMS об акциях магазина. Отказ: STOP"


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def history_of_a_number(rt, client, tenant, clock):  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    assert (
        client.post(
            "/v1/consents",
            headers=h,
            json={
                "phone": PHONE,
                "granted": True,
                "channel": "sms",
                "source": "checkout_checkbox",
                "wording": WORDING,
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0 (X11)",
                "captured_at": "2026-01-10T09:30:00+03:00",
            },
        ).status_code
        == 201
    )
    sent = client.post(
        "/v1/events",
        headers=h,
        json={
            "event_id": "promo-1",
            "type": "message.requested",
            "occurred_at": "2026-01-15T15:00:00+03:00",
            "customer": {"phone": PHONE},
            "message": {"text": "Скидка 20% на всё до воскресенья", "category": "marketing"},
        },
    ).get_json()["messages"][0]
    run_worker(rt)
    clock.set(datetime(2026, 1, 15, 21, 30, tzinfo=UTC))  # 00:30 in Minsk: quiet hours
    night = client.post(
        "/v1/events",
        headers=h,
        json={
            "event_id": "promo-2",
            "type": "message.requested",
            "occurred_at": "2026-01-15T21:30:00+00:00",
            "customer": {"phone": PHONE},
            "message": {"text": "Ночная распродажа", "category": "marketing"},
        },
    ).get_json()["messages"][0]
    assert night["status"] == "scheduled" and night["reason"] == "quiet_hours"
    client.post("/v1/sandbox/inbound", headers=h, json={"from": PHONE, "text": "хватит спамить"})
    run_worker(rt)
    with rt.session() as s:
        make_digests(s, rt.config["SECRET_KEY"], rt.now())
        s.commit()
    return sent, night


def test_the_json_pack_holds_everything_with_chain_proofs(rt, client, tenant, clock):
    sent, night = history_of_a_number(rt, client, tenant, clock)
    resp = client.get(f"/v1/compliance/evidence?phone={PHONE}", headers=tenant["headers"])
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = json.loads(resp.get_data())
    grant, revoke = doc["consent"]["records"]
    assert (grant["wording"], grant["source"], grant["ip"], grant["user_agent"]) == (
        WORDING,
        "checkout_checkbox",
        "203.0.113.7",
        "Mozilla/5.0 (X11)",
    )
    assert grant["captured_at"].startswith("2026-01-10T06:30")
    assert grant["chain"]["seq"] >= 1 and len(grant["chain"]["hash"]) == 64
    assert revoke["granted"] is False and revoke["wording"] == "хватит спамить"
    by_id = {m["id"]: m for m in doc["messages"]}
    promo = by_id[sent["id"]]
    assert promo["category"] == "marketing" and promo["text"].startswith("Скидка 20%")
    assert promo["decision"]["action"] == "send" and promo["timezones"] == ["Europe/Minsk"]
    assert [h["status"] for h in promo["history"]][:2] == ["queued", "sending"]
    assert [r["status"] for r in promo["receipts"]] == ["delivered"]
    held = by_id[night["id"]]
    assert held["decision"]["action"].startswith("defer")
    assert held["decision"]["reasons"][0]["code"] == "quiet_hours"
    assert held["decision"]["reasons"][0]["detail"]  # the zones and the window
    confirmation = [m for m in doc["messages"] if m["category"] == "transactional"]
    assert confirmation and "отписались" in confirmation[0]["text"]
    [change] = doc["stoplist"]["history"]
    assert (change["action"], change["source"], len(change["chain"]["hash"])) == (
        "add",
        "keyword",
        64,
    )
    assert doc["stoplist"]["in_force"][0]["source"] == "keyword"
    assert doc["chain"]["verified"]["ok"] is True
    assert doc["chain"]["latest_digest"]["signature"] and len(doc["chain"]["public_key"]) == 64


def test_the_pdf_in_russian_and_in_english(rt, client, tenant, clock):
    history_of_a_number(rt, client, tenant, clock)
    h = tenant["headers"]
    ru = client.get(f"/v1/compliance/evidence?phone={PHONE}&format=pdf", headers=h)
    assert ru.status_code == 200 and ru.mimetype == "application/pdf"
    assert ru.get_data()[:5] == b"%PDF-"
    text = " ".join(pdf_text(ru.get_data()).split())
    for expected in (
        "Доказательства по номеру",
        PHONE,
        "Согласия на рекламу",
        "Согласен получать SMS об акциях магазина",
        "203.0.113.7",
        "Скидка 20% на всё",
        "quiet_hours",
        "Europe/Minsk",
        "Стоп-лист",
        "хватит спамить",
        "Целостность журнала",
        "Ed25519",
    ):
        assert expected in text, expected
    en = client.get(f"/v1/compliance/evidence?phone={PHONE}&format=pdf&lang=en", headers=h)
    text = " ".join(pdf_text(en.get_data()).split())
    for expected in (
        "Evidence for",
        "Advertising consent",
        "Wording shown",
        "Согласен получать SMS",
        "Delivery receipts",
        "Integrity of the ledger",
    ):
        assert expected in text, expected


def test_a_number_with_nothing_gives_an_empty_pack_and_bad_input_is_refused(rt, client, tenant):
    h = tenant["headers"]
    doc = client.get("/v1/compliance/evidence?phone=%2B375297000001", headers=h).get_json()
    assert doc["consent"]["records"] == [] and doc["messages"] == []
    pdf = client.get("/v1/compliance/evidence?phone=%2B375297000001&format=pdf", headers=h)
    assert pdf.status_code == 200 and "записей нет" in pdf_text(pdf.get_data())
    assert client.get("/v1/compliance/evidence", headers=h).status_code == 400
    bad = client.get("/v1/compliance/evidence?phone=123&format=doc", headers=h)
    assert bad.status_code == 400


def test_the_cli_writes_the_pdf_and_the_json(rt, client, tenant, clock, tmp_path):
    history_of_a_number(rt, client, tenant, clock)
    out = relay(
        rt,
        "compliance",
        "evidence",
        PHONE,
        "--tenant",
        tenant["name"],
        "--lang",
        "en",
        "--out",
        str(tmp_path / "pack.pdf"),
        "--json",
    )
    assert out.returncode == 0, out.stderr
    paths = json.loads(out.stdout)
    assert "Evidence for" in pdf_text((tmp_path / "pack.pdf").read_bytes())
    doc = json.loads((tmp_path / "pack.json").read_text(encoding="utf-8"))
    assert paths["json"].endswith("pack.json") and doc["phone"] == PHONE
    assert doc["consent"]["records"][0]["wording"] == WORDING
