"""Erasure on request (docs/security.md, 'Erasure on request'): after POST /v1/erasures (or
`relay erase`) no row of any table holds the number or its texts, the number is still blocked
`stop_list`, consent evidence stays under the token, and the audit log has the erasure."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select, text

from relay.compliance.chain import CHAINED, verify
from relay.storage.models import AuditEntry, Base, ConsentRecord, InboundMessage, StopEntry
from tests.support.factories import order_event, run_worker

PHONE = "+375297654321"
DIGITS = "297654321"  # the national number: in every way of writing it
TEXTS = ("Секретный промокод ZX81", "мой тайный ответ QQ17", "comment-KK42")
NOON = "2026-01-15T15:00:00+03:00"


def _ok(resp, status=(200, 201, 202)):  # type: ignore[no-untyped-def]
    assert resp.status_code in status, resp.get_data(as_text=True)
    return resp.get_json()


def _world(rt, client, headers):  # type: ignore[no-untyped-def]
    """The number everywhere: an order message, a requested text, a consent, a contact, a
    viber-only stop entry (audited), a reply and a survey comment."""
    _ok(
        client.post(
            "/v1/events", headers=headers, json=order_event("o-1", PHONE, "processing", NOON)
        )
    )
    _ok(
        client.post(
            "/v1/events",
            headers=headers,
            json={
                "event_id": "m-1",
                "type": "message.requested",
                "occurred_at": NOON,
                "customer": {"phone": PHONE, "name": "Анна"},
                "message": {"text": TEXTS[0], "category": "transactional"},
            },
        )
    )
    _ok(
        client.post(
            "/v1/consents",
            headers=headers,
            json={
                "phone": PHONE,
                "granted": True,
                "source": "checkout_checkbox",
                "wording": "Согласен получать рекламу",
                "ip": "203.0.113.5",
            },
        )
    )
    book = _ok(client.post("/v1/books", headers=headers, json={"name": "VIP"}))
    _ok(
        client.post(
            f"/v1/books/{book['id']}/contacts",
            headers=headers,
            json={"phone": PHONE, "name": "Анна Тайная", "fields": {"city": "Минск"}},
        )
    )
    _ok(
        client.post(
            "/v1/stoplist/entries",
            headers=headers,
            json={"phone": PHONE, "channel": "viber", "note": "asked on the phone"},
        )
    )
    _ok(client.post("/v1/sandbox/inbound", headers=headers, json={"from": PHONE, "text": TEXTS[1]}))
    run_worker(rt)  # delivery and reply handling, so every table the number reaches has it


# the tamper-evident ledger: kept unchanged as evidence for its retention period
LEDGER = frozenset(CHAINED)


def _rows_holding(rt, needles, skip=LEDGER):  # type: ignore[no-untyped-def]
    found = []
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                dumped = json.dumps([str(v) for v in row], ensure_ascii=False)
                found += [(table.name, n) for n in needles if n in dumped]
    return found


def _blocked_again(client, headers):  # type: ignore[no-untyped-def]
    answer = _ok(
        client.post(
            "/v1/events", headers=headers, json=order_event("o-2", PHONE, "completed", NOON)
        )
    )
    return [(m["status"], m["reason"]) for m in answer["messages"]]


def test_erasure_leaves_no_row_with_the_number_or_its_texts_and_keeps_it_blocked(
    rt, client, tenant
):
    headers = tenant["headers"]
    _world(rt, client, headers)
    with rt.session() as s:  # the world really holds the number and the reply
        s.add(
            InboundMessage(
                tenant_id=tenant["id"],
                provider="sandbox",
                dedupe_key="survey-1",
                sender=PHONE,
                recipient="1234",
                text=TEXTS[2],
            )
        )
        s.commit()
    before = _rows_holding(rt, (DIGITS, *TEXTS), skip=())
    assert {t for t, _ in before} >= {
        "messages",
        "events",
        "consent_records",
        "contacts",
        "stoplist_entries",
        "inbound_messages",
        "audit_log",
    }, before

    report = _ok(client.post("/v1/erasures", headers=headers, json={"phone": "+375 29 765-43-21"}))
    assert report["contacts_deleted"] == 1 and report["messages_anonymised"] >= 2
    assert report["replies_anonymised"] == 2 and report["consent_records_kept"] == 1
    token = report["token"]
    assert token.startswith("h:") and DIGITS not in token

    assert _rows_holding(rt, (DIGITS, *TEXTS)) == []
    assert _blocked_again(client, headers) == [("blocked", "stop_list")]
    with rt.session() as s:
        # the ledger is evidence: unchanged, and its chain still proves it was never edited
        consent = s.scalar(select(ConsentRecord).where(ConsentRecord.phone == PHONE))
        assert consent.wording == "Согласен получать рекламу" and consent.granted
        assert verify(s, tenant["id"]).ok
        stops = s.scalars(select(StopEntry).where(StopEntry.phone == token)).all()
        assert {(e.channel, e.source) for e in stops} == {("viber", "admin"), ("all", "admin")}
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "erasure.phone"))
        assert entry.tenant_id == tenant["id"] and entry.target_id == token
        assert entry.after["contacts_deleted"] == 1 and entry.actor.startswith("key:")

    other = _ok(client.post("/v1/erasures", headers=headers, json={"phone": "+375291112233"}))
    assert other["token"] != token and other["messages_anonymised"] == 0


def test_a_number_never_stop_listed_is_blocked_after_erasure_through_the_policy_too(
    rt, client, tenant
):
    headers = tenant["headers"]
    explain = {"phone": PHONE, "category": "transactional", "channel": "sms"}
    assert _ok(client.post("/v1/policy/explain", headers=headers, json=explain))["decision"] != (
        "block"
    )
    _ok(client.post("/v1/erasures", headers=headers, json={"phone": PHONE}))
    answer = _ok(client.post("/v1/policy/explain", headers=headers, json=explain))
    assert answer["decision"] == "block" and "stop_list" in json.dumps(answer["reasons"])


def test_the_operator_names_the_tenant_and_another_tenant_is_untouched(rt, client, tenant):
    from tests.support.factories import make_tenant

    rt.config["ADMIN_TOKEN"] = "op-secret"
    other = make_tenant(rt, "other-shop", "BY")
    for who in (tenant, other):
        _ok(
            client.post(
                "/v1/events",
                headers=who["headers"],
                json=order_event("o-1", PHONE, "processing", NOON),
            )
        )
    operator = {"Authorization": "Bearer op-secret"}
    resp = client.post("/v1/erasures", headers=operator, json={"phone": PHONE})
    assert resp.status_code == 422 and "tenant" in resp.get_json()["error"]["fields"]
    resp = client.post("/v1/erasures", headers=operator, json={"phone": PHONE, "tenant": "nope"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "tenant_not_found"
    report = _ok(
        client.post("/v1/erasures", headers=operator, json={"phone": PHONE, "tenant": "shop-by"})
    )
    assert report["tenant_id"] == tenant["id"] and report["messages_anonymised"] == 1
    with rt.session() as s:
        kept = s.execute(
            text("SELECT count(*) FROM messages WHERE tenant_id = :t AND phone = :p"),
            {"t": other["id"], "p": PHONE},
        ).scalar()
        assert kept == 1
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "erasure.phone")) == (
            "operator"
        )


def test_relay_erase_on_the_command_line(rt, client, tenant, monkeypatch):
    from relay.cli import main

    _ok(
        client.post(
            "/v1/events",
            headers=tenant["headers"],
            json=order_event("o-1", PHONE, "processing", NOON),
        )
    )
    monkeypatch.setenv("RELAY_DATABASE_URL", rt.config["DATABASE_URL"])
    result = CliRunner().invoke(main, ["erase", PHONE, "--tenant", "shop-by", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["messages_anonymised"] == 1 and report["token"].startswith("h:")
    assert _rows_holding(rt, (DIGITS,)) == []
    assert _blocked_again(client, tenant["headers"]) == [("blocked", "stop_list")]
    bad = CliRunner().invoke(main, ["erase", "12", "--tenant", "shop-by", "--json"])
    assert bad.exit_code == 2 and json.loads(bad.output.strip().splitlines()[-1])["error"]["code"]
