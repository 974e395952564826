"""End to end: install → status webhook → message decided and sent → notes on the lead."""

from __future__ import annotations

from sqlalchemy import select

from relay.storage.models import ConnectorInbox, ConsentRecord
from shared.connector import get_context
from tests.connectors.amocrm.helpers import (
    NEW,
    PAID,
    PIPELINE,
    WON,
    account_pairs,
    post_webhook,
    status_pairs,
)
from tests.support.factories import run_worker, sandbox_sends

LEAD, CONTACT = 4821, 7001


def inbox(rt, kind: str | None = None) -> list[ConnectorInbox]:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        query = select(ConnectorInbox).order_by(ConnectorInbox.id)
        if kind:
            query = query.where(ConnectorInbox.kind == kind)
        return list(s.scalars(query))


def lead_notes(amo, lead_id: int = LEAD) -> list[dict]:  # type: ignore[no-untyped-def]
    return [note for lid, note in amo.notes if lid == lead_id]


def move(client, installed, status_id: int, old: int = NEW, lead_id: int = LEAD, **kw):  # type: ignore[no-untyped-def]
    resp = post_webhook(
        client, installed["path"], status_pairs(lead_id, status_id, old, **kw) + account_pairs()
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_stage_change_sends_sms_and_writes_an_sms_note_on_the_lead(rt, client, amo, installed):
    amo.add_contact(CONTACT, "Анна", [("+7 (495) 123-45-67", "WORK"), ("8 916 123-45-67", "MOB")])
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[(7000, False), (CONTACT, True)])

    answer = move(client, installed, PAID)
    assert len(answer["accepted"]) == 1
    run_worker(rt)

    # the lead was read with its contacts, then the main contact
    gets = [(c.path, c.params) for c in amo.api_calls("GET")]
    assert (f"/api/v4/leads/{LEAD}", {"with": "contacts"}) in gets
    assert (f"/api/v4/contacts/{CONTACT}", {}) in gets
    # the message was decided and sent to the mobile number
    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+79161234567"
    assert sent["text"] == f"Анна, оплата по заказу №{LEAD} получена."
    [record] = inbox(rt, "leads_status")
    assert record.status == "done"
    message_id = record.detail.split(": ")[1].split(" ")[0]
    detail = client.get(f"/v1/messages/{message_id}", headers=installed["tenant"]["headers"])
    assert detail.get_json()["status"] == "delivered"
    # …and an outgoing-SMS note with the text and the phone is on the lead, once
    assert lead_notes(amo) == [
        {"note_type": "sms_out", "params": {"text": sent["text"], "phone": "+79161234567"}}
    ]
    [note] = inbox(rt, "note")
    assert note.status == "done" and note.detail.startswith("note ")


def test_duplicate_webhook_sends_once(rt, client, amo, installed):
    amo.add_contact(CONTACT, "Анна", [("+79161234567", "MOB")])
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[(CONTACT, True)])

    first, second = move(client, installed, PAID), move(client, installed, PAID)
    run_worker(rt)

    assert (len(first["accepted"]), second["accepted"], second["duplicates"]) == (1, [], 1)
    assert len(sandbox_sends(rt)) == 1 and len(lead_notes(amo)) == 1


def test_rerunning_a_job_or_repeating_write_back_adds_nothing(rt, client, amo, installed):
    from connectors.amocrm.jobs import process_lead
    from relay.platforms.writeback import run_writeback

    amo.add_contact(CONTACT, "Анна", [("+79161234567", "MOB")])
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[(CONTACT, True)])
    [record_id] = move(client, installed, PAID)["accepted"]
    run_worker(rt)
    message_id = inbox(rt, "leads_status")[0].detail.split(": ")[1].split(" ")[0]

    assert process_lead(record_id) == "already handled"
    get_context("amocrm").inbox.finish(record_id, "failed", "pretend it failed")
    assert process_lead(record_id) == "done"  # re-run: the relay answers "duplicate"
    run_writeback(rt, [message_id])
    run_writeback(rt, [message_id])
    run_worker(rt)

    assert len(sandbox_sends(rt)) == 1 and len(lead_notes(amo)) == 1
    assert "(duplicate)" in inbox(rt, "leads_status")[0].detail


def test_unconfigured_stage_is_skipped_without_calling_amocrm(rt, client, amo, installed):
    calls = len(amo.calls)
    move(client, installed, 99999)
    run_worker(rt)

    [record] = inbox(rt, "leads_status")
    assert (record.status, record.detail) == (
        "skipped",
        f"stage {PIPELINE}:99999 is not configured to send",
    )
    assert len(amo.calls) == calls and sandbox_sends(rt) == []


def test_lead_without_contacts_is_skipped_with_a_note(rt, client, amo, installed):
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[])
    move(client, installed, PAID)
    run_worker(rt)

    [record] = inbox(rt, "leads_status")
    assert (record.status, record.detail) == ("skipped", "у сделки нет контакта")
    assert lead_notes(amo) == [
        {"note_type": "common", "params": {"text": "SMS не отправлено: у сделки нет контакта."}}
    ]
    assert sandbox_sends(rt) == []


def test_contact_without_phone_is_skipped_with_a_note(rt, client, amo, installed):
    amo.add_contact(CONTACT, "Без телефона", [])
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[(CONTACT, True)])
    move(client, installed, PAID)
    run_worker(rt)

    [record] = inbox(rt, "leads_status")
    assert (record.status, record.detail) == ("skipped", "у контакта нет телефона")
    assert lead_notes(amo)[0]["params"]["text"] == "SMS не отправлено: у контакта нет телефона."


def test_invalid_phone_is_recorded_as_skipped_with_a_note(rt, client, amo, installed):
    amo.add_contact(CONTACT, "Опечатка", [("12345", "MOB")])
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[(CONTACT, True)])
    move(client, installed, PAID)
    run_worker(rt)

    [record] = inbox(rt, "leads_status")
    assert (record.status, record.detail) == ("skipped", "некорректный номер телефона")
    assert lead_notes(amo)[0]["note_type"] == "common"


def test_deleted_lead_is_skipped(rt, client, amo, installed):
    move(client, installed, PAID)  # the stand-in has no such lead: 204
    run_worker(rt)
    [record] = inbox(rt, "leads_status")
    assert (record.status, record.detail) == ("skipped", f"lead {LEAD} no longer exists")


def test_consent_field_records_consent_and_marketing_stage_sends(rt, client, amo, installed):
    amo.add_contact(
        CONTACT,
        "Анна",
        [("+79161234567", "MOB")],
        extra_fields=[
            {
                "field_id": 566027,
                "field_name": "Согласие на рассылку",
                "field_code": None,
                "field_type": "checkbox",
                "values": [{"value": True}],
            }
        ],
    )
    amo.add_lead(LEAD, WON, PIPELINE, contacts=[(CONTACT, True)])
    move(client, installed, WON, old=PAID)
    run_worker(rt)

    with rt.session() as s:
        [consent] = s.scalars(select(ConsentRecord)).all()
    assert (consent.phone, consent.granted, consent.source, consent.wording) == (
        "+79161234567",
        True,
        "crm_field",
        "Согласен получать SMS о скидках",
    )
    [sent] = sandbox_sends(rt)
    assert sent["text"].startswith("Спасибо за покупку!")
    assert lead_notes(amo)[0]["note_type"] == "sms_out"


def test_marketing_stage_without_consent_is_blocked_and_noted(rt, client, amo, installed):
    amo.add_contact(CONTACT, "Анна", [("+79161234567", "MOB")])
    amo.add_lead(LEAD, WON, PIPELINE, contacts=[(CONTACT, True)])
    move(client, installed, WON, old=PAID)
    run_worker(rt)

    assert sandbox_sends(rt) == []
    assert "blocked (no_consent)" in inbox(rt, "leads_status")[0].detail
    assert lead_notes(amo) == [
        {
            "note_type": "common",
            "params": {"text": "SMS не отправлено: нет согласия на рекламные сообщения."},
        }
    ]


def test_revoked_integration_fails_the_record_and_flags_the_tenant(rt, client, amo, installed):
    from relay.storage.models import Tenant

    get_context("amocrm").store.update_secrets("amocrm", "example.amocrm.ru", {"expires_at": 0})
    amo.revoke_refresh_tokens()
    amo.add_lead(LEAD, PAID, PIPELINE, contacts=[])
    move(client, installed, PAID)
    run_worker(rt)

    [record] = inbox(rt, "leads_status")
    assert record.status == "failed" and record.detail.startswith("needs re-authorisation")
    with rt.session() as s:
        assert s.get(Tenant, installed["tenant_id"]).status == "needs_reauth"
    # further webhooks are recorded and skipped, not processed
    move(client, installed, PAID, last_modified=1768478500)
    assert inbox(rt, "leads_status")[-1].status == "skipped"
