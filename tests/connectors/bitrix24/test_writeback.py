"""Write-back to the portal: what each relay status, reply and survey answer becomes."""

from __future__ import annotations

from connectors.bitrix24.writeback import plan_calls
from shared.connector import get_context
from shared.writeback import WritebackEvent
from tests.connectors.bitrix24.conftest import inbox


def event(kind="status_changed", b24=None, member="m1", **kw):  # type: ignore[no-untyped-def]
    context = {
        "source": {"platform": "bitrix24", "account": member},
        "data": {"bitrix24": b24 or {}},
    }
    defaults = {"tenant_id": "t1", "message_id": "msg1", "phone": "+79001234567"}
    return WritebackEvent(kind=kind, context=context, **{**defaults, **kw})


SMS = {"kind": "sms", "message_id": "b24msg", "entity_type": "deal", "entity_id": "42"}
STAGE = {"kind": "stage", "entity_type": "lead", "entity_id": "7"}


def test_provider_statuses_map_to_messageservice_statuses():
    expected = {
        "queued": "queued",
        "sent": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "undelivered": "undelivered",
        "expired": "undelivered",
        "failed": "failed",
        "blocked": "failed",
        "cancelled": "failed",
    }
    for relay_status, b24_status in expected.items():
        calls = plan_calls(event(b24=SMS, status=relay_status), "relay_sms")
        assert calls[0] == (
            "messageservice.message.status.update",
            {"CODE": "relay_sms", "MESSAGE_ID": "b24msg", "STATUS": b24_status},
        )
    assert plan_calls(event(b24=SMS, status="unknown"), "relay_sms") == []


def test_blocked_provider_message_gets_the_reason_in_the_deals_timeline():
    calls = plan_calls(event(b24=SMS, status="blocked", reason="no_consent"), "relay_sms")
    method, params = calls[1]
    assert method == "crm.timeline.comment.add"
    assert set(params) == {"fields"}  # lowercase `fields`, as the method demands
    assert params["fields"]["ENTITY_TYPE"] == "deal" and params["fields"]["ENTITY_ID"] == "42"
    assert "нет согласия" in params["fields"]["COMMENT"]


def test_stage_messages_comment_only_on_outcomes():
    assert plan_calls(event(b24=STAGE, status="queued"), "c") == []
    assert plan_calls(event(b24=STAGE, status="sent"), "c") == []
    [(method, params)] = plan_calls(event(b24=STAGE, status="blocked", reason="stop_list"), "c")
    assert method == "crm.timeline.comment.add"
    assert params["fields"]["ENTITY_TYPE"] == "lead" and "стоп-лист" in params["fields"]["COMMENT"]


def test_replies_and_scores_go_to_the_timeline(rt, standin, installed, daytime):
    deal = installed.add_deal(None)
    b24 = {"kind": "stage", "entity_type": "deal", "entity_id": deal}
    writeback = get_context("bitrix24")
    from connectors.bitrix24 import create_writeback

    handler = create_writeback(writeback)
    handler.handle(event("reply_received", b24, installed.member_id, text="Спасибо, получил"))
    handler.handle(event("survey_answered", b24, installed.member_id, score=9, text="9"))
    handler.handle(event("survey_answered", b24, installed.member_id, score=9, text="9"))

    comments = [c["COMMENT"] for c in installed.comments]
    assert len(comments) == 2  # the repeated survey answer is reported once
    assert "Спасибо, получил" in comments[0] and "9 из 10" in comments[1]
    assert all(c["ENTITY_ID"] == deal for c in installed.comments)
    assert [r.status for r in inbox(rt, "writeback")] == ["done", "done"]


def test_events_of_other_platforms_or_unknown_portals_are_ignored(rt, standin, installed):
    from connectors.bitrix24 import create_writeback

    handler = create_writeback(get_context("bitrix24"))
    other = WritebackEvent(
        kind="status_changed",
        tenant_id="t",
        message_id="m",
        phone="+79001234567",
        status="delivered",
        context={"source": {"platform": "amocrm", "account": "x"}},
    )
    handler.handle(other)
    handler.handle(event(b24=SMS, member="no-such-portal", status="delivered"))
    records = inbox(rt, "writeback")
    assert len(records) == 1 and records[0].status == "failed"  # recorded, not raised
    assert "not_installed" in records[0].detail
