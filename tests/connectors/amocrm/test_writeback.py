"""Write-back notes: statuses, replies, survey scores; repeats write nothing new."""

from __future__ import annotations

from sqlalchemy import select

from relay.storage.models import ConnectorInbox
from shared.writeback import WritebackEvent
from tests.connectors.amocrm.helpers import DOMAIN
from tests.support.factories import run_worker

LEAD = 4821
CONTEXT = {
    "source": {"platform": "amocrm", "account": DOMAIN},
    "order": {"id": str(LEAD)},
    "data": {"lead_id": LEAD},
}


def report(rt, installed, kind: str = "status_changed", **fields):  # type: ignore[no-untyped-def]
    event = WritebackEvent(
        kind=kind,
        tenant_id=installed["tenant_id"],
        phone="+79161234567",
        **{"context": CONTEXT, **fields},
    )
    rt.writebacks["amocrm"].handle(event)


def test_each_report_becomes_one_note(rt, amo, installed):
    amo.add_lead(LEAD, 142, 7010970, contacts=[])
    report(rt, installed, message_id="m1", status="delivered", text="Ваш заказ готов.")
    report(rt, installed, message_id="m1", status="sent", text="Ваш заказ готов.")  # late, same
    report(rt, installed, message_id="m2", status="blocked", reason="stop_list", text="x")
    report(rt, installed, message_id="m3", status="failed", reason="provider_error", text="y")
    report(rt, installed, message_id="m4", status="queued", text="z")  # nothing to say
    report(rt, installed, "reply_received", message_id="m1", text="Спасибо!")
    report(rt, installed, "survey_answered", message_id="m1", score=9, text="Всё хорошо")
    report(rt, installed, "survey_answered", message_id="m1", score=9, text="Всё хорошо")
    report(rt, installed, "survey_answered", message_id="m5", score=3, text=" 3 ")
    run_worker(rt)

    assert [note for _lead, note in amo.notes] == [
        {"note_type": "sms_out", "params": {"text": "Ваш заказ готов.", "phone": "+79161234567"}},
        {"note_type": "common", "params": {"text": "SMS не отправлено: номер в стоп-листе."}},
        {"note_type": "common", "params": {"text": "SMS на +79161234567: ошибка отправки."}},
        {"note_type": "sms_in", "params": {"text": "Спасибо!", "phone": "+79161234567"}},
        {"note_type": "common", "params": {"text": "Оценка в опросе: 9. Ответ: Всё хорошо"}},
        {"note_type": "common", "params": {"text": "Оценка в опросе: 3"}},
    ]
    assert {lead for lead, _note in amo.notes} == {LEAD}


def test_undelivered_writes_the_sms_and_the_failure_once(rt, amo, installed):
    amo.add_lead(LEAD, 142, 7010970, contacts=[])
    for status in ("undelivered", "expired", "undelivered"):
        report(rt, installed, message_id="m9", status=status, text="Привет")
    run_worker(rt)
    assert [n["note_type"] for _lead, n in amo.notes] == ["sms_out", "common"]


def test_other_platforms_and_messages_without_a_lead_are_ignored(rt, amo, installed):
    rt.writebacks["amocrm"].handle(
        WritebackEvent(
            kind="status_changed",
            tenant_id=installed["tenant_id"],
            message_id="w1",
            phone="+79161234567",
            status="sent",
            text="t",
            context={"source": {"platform": "woocommerce", "account": "shop.example.by"}},
        )
    )
    rt.writebacks["amocrm"].handle(
        WritebackEvent(
            kind="status_changed",
            tenant_id=installed["tenant_id"],
            message_id="w2",
            phone="+79161234567",
            status="sent",
            text="t",
            context={"source": {"platform": "amocrm", "account": DOMAIN}},
        )
    )
    run_worker(rt)
    assert amo.notes == []


def test_a_failed_note_is_recorded_and_can_be_rerun(rt, amo, installed):
    from connectors.amocrm.jobs import post_note

    report(rt, installed, message_id="m1", status="sent", text="Привет")  # lead not at amoCRM
    run_worker(rt)
    with rt.session() as s:
        [note] = s.scalars(select(ConnectorInbox).where(ConnectorInbox.kind == "note")).all()
    assert note.status == "failed" and "404" in note.detail

    amo.add_lead(LEAD, 142, 7010970, contacts=[])
    assert post_note(note.id) == "done"
    assert post_note(note.id) == "already handled"
    assert len(amo.notes) == 1
