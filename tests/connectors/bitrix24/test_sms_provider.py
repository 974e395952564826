"""The relay as the portal's SMS provider: deal-card and robot SMS through the relay's policy,
statuses back with messageservice.message.status.update, reasons in the timeline."""

from __future__ import annotations

from relay.compliance.stoplist import add_stop
from shared.connector import get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.conftest import BASE, inbox
from tests.support.factories import run_worker, sandbox_sends


def statuses(portal, message_id):  # type: ignore[no-untyped-def]
    return [s["STATUS"] for s in portal.statuses if s["MESSAGE_ID"] == message_id]


def test_deal_card_sms_goes_through_the_relay_and_reports_every_status(
    rt, web, standin, installed, daytime
):
    contact = installed.add_contact()
    deal = installed.add_deal(contact)
    form = payloads.sms_request(
        standin, installed, "+79001234567", "Ваш заказ готов", deal_id=deal, contact_id=contact
    )

    response = web.post(f"{BASE}/sms", data=form)
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    run_worker(rt)

    [sent] = sandbox_sends(rt)
    assert (sent["phone"], sent["text"]) == ("+79001234567", "Ваш заказ готов")
    # each write-back job reports the message's current status, so a burst of changes may
    # reach the portal as its last state only; never twice, never out of order
    reported = statuses(installed, form["message_id"])
    assert reported[-1] == "delivered" and len(reported) == len(set(reported))
    assert set(reported) <= {"queued", "sent", "delivered"}
    assert {s["CODE"] for s in installed.statuses} == {"relay_sms"}
    assert installed.comments == []  # Bitrix24 shows a provider's delivery status itself
    [record] = inbox(rt, "sms")
    assert record.status == "done"
    assert record.payload["target"] == {
        "contact_id": contact,
        "entity_type": "deal",
        "entity_id": deal,
    }


def test_robot_sms_to_a_stop_listed_client_ends_failed_with_the_reason_in_the_timeline(
    rt, web, standin, installed, daytime
):
    deal = installed.add_deal(installed.add_contact())
    inst = get_context("bitrix24").store.get("bitrix24", installed.member_id)
    with rt.session() as s:
        add_stop(s, inst.tenant_id, "+79001234567", "keyword", rt.now())
        s.commit()
    form = payloads.sms_request(
        standin,
        installed,
        "8 (900) 123-45-67",
        "Скидка 20% только сегодня",
        deal_id=deal,
        robot=True,
    )

    assert web.post(f"{BASE}/sms", data=form).status_code == 200
    run_worker(rt)

    assert sandbox_sends(rt) == []
    assert statuses(installed, form["message_id"]) == ["failed"]
    [comment] = installed.comments
    assert (comment["ENTITY_TYPE"], comment["ENTITY_ID"]) == ("deal", deal)
    assert "стоп-лист" in comment["COMMENT"]
    assert "1234567" not in comment["COMMENT"]


def test_undelivered_number_is_reported_undelivered(rt, web, standin, installed, daytime):
    form = payloads.sms_request(
        standin, installed, "+79001234500", "Проверка", deal_id=installed.add_deal(None)
    )
    web.post(f"{BASE}/sms", data=form)
    run_worker(rt)
    assert statuses(installed, form["message_id"])[-1] == "undelivered"


def test_repeated_provider_call_is_recorded_once(rt, web, standin, installed, daytime):
    form = payloads.sms_request(standin, installed, "+79001234567", "Один раз")
    first = web.post(f"{BASE}/sms", data=form)
    second = web.post(f"{BASE}/sms", data=form)
    assert (first.get_json()["status"], second.get_json()["status"]) == ("accepted", "duplicate")
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1 and len(inbox(rt, "sms")) == 1


def test_unparseable_number_is_refused_by_the_relay_and_reported_failed(
    rt, web, standin, installed, daytime
):
    deal = installed.add_deal(None)
    form = payloads.sms_request(standin, installed, "12", "Текст", deal_id=deal)
    web.post(f"{BASE}/sms", data=form)
    run_worker(rt)
    assert statuses(installed, form["message_id"]) == ["failed"]
    assert "номер телефона не распознан" in installed.comments[0]["COMMENT"]
    [record] = inbox(rt, "sms")
    assert record.status == "skipped" and "invalid_phone" in record.detail


def test_bad_provider_calls_are_clear_4xx(rt, web, standin, installed):
    good = payloads.sms_request(standin, installed, "+79001234567", "x")
    wrong_token = {**good, "auth[application_token]": "1" * 32}
    wrong_code = {**good, "code": "someone_else"}
    no_number = {k: v for k, v in good.items() if k != "message_to"}
    assert web.post(f"{BASE}/sms", data=wrong_token).status_code == 403
    response = web.post(f"{BASE}/sms", data=wrong_code)
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "unknown_provider")
    response = web.post(f"{BASE}/sms", data=no_number)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"message_to": ["required"]}
    assert inbox(rt, "sms") == []


def test_status_report_that_fails_is_recorded_and_can_be_replayed(
    rt, web, standin, installed, daytime
):
    form = payloads.sms_request(standin, installed, "+79001234567", "Привет")
    standin.fail(
        "messageservice.message.status.update",
        500,
        "INTERNAL_SERVER_ERROR",
        "Internal server error",
        times=4,
    )  # the first report gives up after retries
    web.post(f"{BASE}/sms", data=form)
    run_worker(rt)

    [failed] = inbox(rt, "writeback")
    assert failed.status == "failed" and "INTERNAL_SERVER_ERROR" in failed.detail
    assert failed.payload["status"] == "delivered"
    assert statuses(installed, form["message_id"]) == []

    get_context("bitrix24").enqueue("connectors.bitrix24.jobs.replay_writeback", failed.id)
    run_worker(rt)
    assert statuses(installed, form["message_id"]) == ["delivered"]
    assert inbox(rt, "writeback")[0].status == "done"
