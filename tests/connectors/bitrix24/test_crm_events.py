"""CRM events → stage-change messages: verification, batch reads, stage history, dedupe."""

from __future__ import annotations

from shared.connector import get_context
from tests.connectors.bitrix24 import payloads
from tests.connectors.bitrix24.conftest import BASE, api_headers, inbox, map_stages
from tests.support.factories import run_worker, sandbox_sends

DONE = {"deal": {"WON": "b24_order_done"}}


def fire(web, standin, portal, event, item_id, **kw):  # type: ignore[no-untyped-def]
    """Bitrix24's queue server delivering one event to our handler."""
    return web.post(
        f"{BASE}/events", data=payloads.crm_event(standin, portal, event, item_id, **kw)
    )


def deal_with_contact(portal, stage="NEW"):  # type: ignore[no-untyped-def]
    contact = portal.add_contact(
        phones=[("+7 (495) 100-20-30", "WORK"), ("+7 900 123-45-67", "MOBILE")]
    )
    return portal.add_deal(contact, stage=stage), contact


def test_stage_change_is_decided_sent_and_commented_in_the_deal(
    rt, web, standin, installed, daytime
):
    map_stages(get_context("bitrix24"), installed.member_id, DONE)
    deal, _contact = deal_with_contact(installed)
    installed.move_deal(deal, "WON")
    standin.calls.clear()

    response = fire(web, standin, installed, "ONCRMDEALUPDATE", deal)
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    run_worker(rt)

    # the deal, its contact and its stage history were read in one batch request
    assert [c.method for c in standin.rest_calls() if c.http_method == "POST"][0] == "batch"
    reads = [c.method for c in standin.rest_calls() if c.http_method == "BATCH"]
    assert reads == ["crm.deal.get", "crm.contact.get", "crm.stagehistory.list"]
    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+79001234567"  # the mobile number, not the office line
    assert sent["text"] == f"Заказ №{deal} выполнен. Спасибо, что выбрали нас!"
    [record] = inbox(rt, "crm_event")
    assert record.status == "done" and "queued" in record.detail
    message_id = record.detail.split(": ")[1].split()[0]
    detail = web.get(
        f"/v1/messages/{message_id}", headers=api_headers(rt, installed.member_id)
    ).get_json()
    assert detail["status"] == "delivered"
    [comment] = installed.comments
    assert (comment["ENTITY_TYPE"], comment["ENTITY_ID"]) == ("deal", deal)
    assert "доставлено" in comment["COMMENT"] and "+79" in comment["COMMENT"]
    assert "1234567" not in comment["COMMENT"]  # the number is masked


def test_repeated_event_sends_nothing_new(rt, web, standin, installed, daytime):
    map_stages(get_context("bitrix24"), installed.member_id, DONE)
    deal, _ = deal_with_contact(installed, "WON")
    for _ in range(3):
        assert fire(web, standin, installed, "ONCRMDEALUPDATE", deal).status_code == 200
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1
    assert [r.status for r in inbox(rt, "crm_event")] == ["done", "skipped", "skipped"]
    assert "duplicate" in inbox(rt, "crm_event")[1].detail


def test_late_event_does_not_send_for_a_stage_the_deal_already_left(
    rt, web, standin, installed, daytime
):
    map_stages(
        get_context("bitrix24"),
        installed.member_id,
        {"deal": {"WON": "b24_order_done", "LOSE": "b24_order_cancelled"}},
    )
    deal, _ = deal_with_contact(installed)
    installed.move_deal(deal, "WON")
    installed.move_deal(deal, "LOSE")  # moved on before the WON event reached us

    fire(web, standin, installed, "ONCRMDEALUPDATE", deal)  # the (late) WON event
    fire(web, standin, installed, "ONCRMDEALUPDATE", deal)  # the LOSE event
    run_worker(rt)

    assert [s["text"] for s in sandbox_sends(rt)] == [f"Заказ №{deal} отменён."]


def test_a_deal_coming_back_to_a_stage_is_messaged_again(rt, web, standin, installed, daytime):
    map_stages(get_context("bitrix24"), installed.member_id, DONE)
    deal, _ = deal_with_contact(installed)
    for stage in ("WON", "EXECUTING", "WON"):
        installed.move_deal(deal, stage)
        fire(web, standin, installed, "ONCRMDEALUPDATE", deal)
        run_worker(rt)
    assert len(sandbox_sends(rt)) == 2


def test_unmapped_stage_is_skipped_without_calling_the_portal(rt, web, standin, installed):
    deal, _ = deal_with_contact(installed, "WON")
    standin.calls.clear()
    fire(web, standin, installed, "ONCRMDEALADD", deal)
    run_worker(rt)
    [record] = inbox(rt, "crm_event")
    assert (record.status, record.detail) == ("skipped", "no stage of deal is mapped to a template")
    assert standin.rest_calls() == []


def test_deal_without_contact_or_phone_is_skipped_with_its_reason(
    rt, web, standin, installed, daytime
):
    map_stages(get_context("bitrix24"), installed.member_id, DONE)
    lonely = installed.add_deal(None, stage="WON")
    mute = installed.add_deal(installed.add_contact(phones=None), stage="WON")
    fire(web, standin, installed, "ONCRMDEALUPDATE", lonely)
    fire(web, standin, installed, "ONCRMDEALUPDATE", mute)
    run_worker(rt)
    details = [(r.status, r.detail) for r in inbox(rt, "crm_event")]
    assert details[0] == ("skipped", f"deal {lonely} has no contact")
    assert details[1][0] == "skipped" and details[1][1].endswith("has no phone")
    assert sandbox_sends(rt) == []


def test_wrong_or_unknown_application_token_is_403_and_nothing_recorded(
    rt, web, standin, installed
):
    wrong = fire(web, standin, installed, "ONCRMDEALUPDATE", "42", application_token="0" * 32)
    stranger = standin.add_portal("other.bitrix24.ru")
    unknown = fire(web, standin, stranger, "ONCRMDEALUPDATE", "42")
    for response in (wrong, unknown):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "invalid_application_token"
    assert inbox(rt, "crm_event") == []


def test_event_without_a_record_id_is_a_clear_400(rt, web, standin, installed):
    form = payloads.crm_event(standin, installed, "ONCRMDEALUPDATE", "abc")
    response = web.post(f"{BASE}/events", data=form)
    assert response.status_code == 400
    assert "data[FIELDS][ID]" in response.get_json()["error"]["fields"]
    garbled = web.post(f"{BASE}/events", data={"auth[member_id]]": "x"})
    assert garbled.status_code == 400


def test_lead_status_uses_the_leads_own_phone(rt, web, standin, installed, daytime):
    map_stages(
        get_context("bitrix24"), installed.member_id, {"lead": {"NEW": "b24_order_accepted"}}
    )
    lead = installed.add_lead(phones=[("89001112233", "MOBILE")])
    fire(web, standin, installed, "ONCRMLEADADD", lead)
    run_worker(rt)
    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+79001112233"


def test_smart_process_item_is_read_with_crm_item_get(rt, web, standin, installed, daytime):
    map_stages(
        get_context("bitrix24"),
        installed.member_id,
        {"dynamic_128": {"DT128_3:SUCCESS": "b24_order_done"}},
    )
    contact = installed.add_contact(phones=[("+7 900 765-43-21", "MOBILE")])
    item = installed.add_item(128, contact, "DT128_3:SUCCESS")
    fire(web, standin, installed, "ONCRMDYNAMICITEMUPDATE", item, entity_type_id=128)
    run_worker(rt)
    [sent] = sandbox_sends(rt)
    assert sent["phone"] == "+79007654321"
    get = next(c for c in standin.rest_calls("crm.item.get"))
    assert get.params == {"entityTypeId": "128", "id": item}
    assert installed.comments[0]["ENTITY_TYPE"] == "dynamic_128"


def test_without_stage_history_the_move_time_identifies_the_stage_entry(
    rt, web, standin, installed, daytime
):
    map_stages(get_context("bitrix24"), installed.member_id, DONE)
    deal, _ = deal_with_contact(installed, "WON")
    standin.fail("crm.stagehistory.list", 403, "ACCESS_DENIED", "Access denied", times=2)
    fire(web, standin, installed, "ONCRMDEALUPDATE", deal)
    fire(web, standin, installed, "ONCRMDEALUPDATE", deal)
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 1
    assert [r.status for r in inbox(rt, "crm_event")] == ["done", "skipped"]


def test_consent_field_feeds_the_ledger_and_marketing_waits_for_it(
    rt, web, standin, installed, daytime
):
    map_stages(
        get_context("bitrix24"),
        installed.member_id,
        {"deal": {"WON": "b24_survey"}},
        consent_field="UF_CRM_SMS_OK",
    )
    refused = installed.add_contact(phones=[("+79001112233", "MOBILE")], UF_CRM_SMS_OK="0")
    agreed = installed.add_contact(phones=[("+79004445566", "MOBILE")], UF_CRM_SMS_OK="1")
    no_answer = installed.add_contact(phones=[("+79007778899", "MOBILE")], UF_CRM_SMS_OK="")
    deals = [installed.add_deal(c, stage="WON") for c in (refused, agreed, no_answer)]
    for deal in deals:
        fire(web, standin, installed, "ONCRMDEALUPDATE", deal)
    run_worker(rt)

    assert [s["phone"] for s in sandbox_sends(rt)] == ["+79004445566"]
    details = [r.detail for r in inbox(rt, "crm_event")]
    assert "consent revoked" in details[0] and "no_consent" in details[0]
    assert "consent granted" in details[1]
    assert "consent granted" not in details[2] and "consent revoked" not in details[2]
    assert "no_consent" in details[2]  # an empty field is no answer: nothing recorded
    from relay.storage.models import ConsentRecord

    with rt.session() as s:
        ledger = {(r.phone, r.granted, r.source) for r in s.query(ConsentRecord)}
    assert ledger == {("+79001112233", False, "crm_field"), ("+79004445566", True, "crm_field")}
    blocked = [c for c in installed.comments if c["ENTITY_ID"] in (deals[0], deals[2])]
    assert len(blocked) == 2
    assert all("нет согласия" in c["COMMENT"] for c in blocked)


def test_event_while_the_portal_needs_reinstall_is_kept_and_replayed_after_it(
    rt, web, standin, installed, daytime
):
    from tests.connectors.bitrix24.conftest import install

    ctx = get_context("bitrix24")
    map_stages(ctx, installed.member_id, DONE)
    deal, _ = deal_with_contact(installed, "WON")
    ctx.store.set_status("bitrix24", installed.member_id, "needs_reinstall")

    assert fire(web, standin, installed, "ONCRMDEALUPDATE", deal).status_code == 200
    run_worker(rt)
    [record] = inbox(rt, "crm_event")
    assert record.status == "failed" and "needs_reinstall" in record.detail
    assert sandbox_sends(rt) == []

    assert install(web, standin, installed).status_code == 200
    ctx.enqueue("connectors.bitrix24.jobs.process_event", record.id)
    run_worker(rt)
    assert inbox(rt, "crm_event")[0].status == "done"
    assert len(sandbox_sends(rt)) == 1


def test_quiet_hours_policy_of_stage_messages(rt, web, standin, installed, clock):
    from datetime import UTC, datetime

    clock.set(datetime(2026, 1, 15, 21, 0, tzinfo=UTC))  # night from Moscow eastwards
    ctx = get_context("bitrix24")
    map_stages(ctx, installed.member_id, DONE)
    deferred, _ = deal_with_contact(installed, "WON")
    fire(web, standin, installed, "ONCRMDEALUPDATE", deferred)
    run_worker(rt)
    map_stages(ctx, installed.member_id, DONE, stage_urgent=True)
    urgent, _ = deal_with_contact(installed, "WON")
    fire(web, standin, installed, "ONCRMDEALUPDATE", urgent)
    run_worker(rt)

    details = [r.detail for r in inbox(rt, "crm_event")]
    assert "scheduled/quiet_hours" in details[0]
    assert details[1].endswith("queued")
    assert len(sandbox_sends(rt)) == 1
