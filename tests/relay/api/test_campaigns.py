"""Campaigns through the API: drafts, validation, tenant isolation, start, pause, resume,
cancel, the test send, progress and the detail report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from relay.campaigns.pause import PAUSED_UNTIL
from relay.delivery.delivery import deliver
from relay.storage.models import AuditEntry, Campaign, Message, MessageHistory
from tests.relay.api.test_campaigns_fixtures import (
    campaign_body,
    consent,
    make_book,
    messages,
    minutes,
    phone,
    stop,
    template,
)
from tests.support.factories import make_tenant, run_worker, sandbox_sends

FOOTER = "Отказ: STOP"


@pytest.fixture
def promo(rt, tenant):  # type: ignore[no-untyped-def]
    """The tenant's marketing template "promo"."""
    return template(rt, tenant["id"])


def create(client, tenant, body):  # type: ignore[no-untyped-def]
    resp = client.post("/v1/campaigns", json=body, headers=tenant["headers"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def count(rt, model) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_draft_is_created_shown_listed_changed_deleted_and_audited(rt, client, tenant, promo):
    book = make_book(rt, tenant["id"], 3)
    body = campaign_body(
        book, start_at="2026-01-20T10:00", pace={"count": 100, "minutes": 10}, sender=None
    )
    made = create(client, tenant, body)
    assert made["status"] == "draft" and made["book_id"] == book
    assert made["start_at"] == "2026-01-20T10:00:00+03:00"  # naive = the tenant's zone (Minsk)
    assert made["pace"] == {"count": 100, "minutes": 10}
    with rt.session() as s:
        assert s.get(Campaign, made["id"]).start_at == datetime(2026, 1, 20, 7, 0, tzinfo=UTC)
    h = tenant["headers"]
    assert client.get(f"/v1/campaigns/{made['id']}", headers=h).get_json()["name"] == "Winter sale"
    listed = client.get("/v1/campaigns?limit=1", headers=h).get_json()
    assert [c["id"] for c in listed["items"]] == [made["id"]] and listed["next_cursor"] is None

    patched = client.patch(
        f"/v1/campaigns/{made['id']}",
        json={"segment": {"book_id": book, "filters": {"fields.city": "Минск"}}},
        headers=h,
    )
    assert patched.status_code == 200
    assert patched.get_json()["segment"] == {
        "book_id": book,
        "filters": {"fields.city": "Минск"},
        "birthday_today": False,
    }
    assert client.delete(f"/v1/campaigns/{made['id']}", headers=h).status_code == 204
    assert client.get(f"/v1/campaigns/{made['id']}", headers=h).status_code == 404
    with rt.session() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert [a for a in actions if a.startswith("campaign.")] == [
        "campaign.create",
        "campaign.update",
        "campaign.delete",
    ]
    assert last.actor.startswith("key:") and last.before["name"] == "Winter sale"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"template": "nope"}, 422, "template_not_found"),
        ({"book_id": 999999}, 404, "book_not_found"),
        ({"channels": ["sms", "viber"]}, 422, "invalid_channels"),
        ({"channels": ["fax"]}, 422, "validation_error"),
        ({"start_at": "next tuesday"}, 422, "invalid_time"),
        ({"kind": "date"}, 422, "invalid_greeting_date"),
        ({"kind": "date", "greeting_date": "02-30"}, 422, "invalid_greeting_date"),
        ({"pace": {"count": 0, "minutes": 10}}, 422, "validation_error"),
        ({"sender": "Way Too Long Sender"}, 422, "invalid_sender"),
        ({"test_phone": "12"}, 422, "invalid_phone"),
        ({"segment": {"book_id": 1, "filters": {"city": "x"}}}, 422, "invalid_segment"),
        ({"surprise": 1}, 422, "validation_error"),
    ],
)
def test_bad_campaign_is_refused_with_a_precise_code(
    rt, client, tenant, promo, change, status, code
):
    book = make_book(rt, tenant["id"], 1)
    resp = client.post(
        "/v1/campaigns", json={**campaign_body(book), **change}, headers=tenant["headers"]
    )
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["error"]["code"] == code
    assert count(rt, Campaign) == 0


def test_another_tenants_campaign_is_404_on_every_route(rt, client, tenant, promo):
    book = make_book(rt, tenant["id"], 2)
    consent(rt, tenant["id"], [phone(0), phone(1)])
    made = create(client, tenant, campaign_body(book, test_phone="+375291112233"))
    other = make_tenant(rt, "other-shop", "BY")
    cid = made["id"]
    calls = [
        ("get", f"/v1/campaigns/{cid}", None),
        ("patch", f"/v1/campaigns/{cid}", {"name": "stolen"}),
        ("delete", f"/v1/campaigns/{cid}", None),
        ("post", f"/v1/campaigns/{cid}/test", {}),
        ("post", f"/v1/campaigns/{cid}/start", None),
        ("post", f"/v1/campaigns/{cid}/pause", None),
        ("post", f"/v1/campaigns/{cid}/resume", None),
        ("post", f"/v1/campaigns/{cid}/cancel", None),
        ("get", f"/v1/campaigns/{cid}/progress", None),
        ("get", f"/v1/campaigns/{cid}/report?format=csv", None),
    ]
    for method, url, body in calls:
        resp = getattr(client, method)(url, json=body, headers=other["headers"])
        assert resp.status_code == 404, (method, url, resp.get_json())
        assert resp.get_json()["error"]["code"] == "campaign_not_found"
    assert client.get("/v1/campaigns", headers=other["headers"]).get_json()["items"] == []
    # a foreign book id in a body is as unknown as a missing one
    foreign = client.post("/v1/campaigns", json=campaign_body(book), headers=other["headers"])
    assert (foreign.status_code, foreign.get_json()["error"]["code"]) == (404, "book_not_found")
    with rt.session() as s:
        row = s.get(Campaign, cid)
        assert (row.name, row.status) == ("Winter sale", "draft")
    assert count(rt, Message) == 0


def test_campaign_without_consented_recipients_is_refused_at_start(rt, client, tenant, promo):
    book = make_book(rt, tenant["id"], 5)
    consent(rt, tenant["id"], [phone(3), phone(4)])
    stop(rt, tenant["id"], phone(3))
    stop(rt, tenant["id"], phone(4))
    made = create(client, tenant, campaign_body(book))
    resp = client.post(f"/v1/campaigns/{made['id']}/start", headers=tenant["headers"])
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "no_consented_recipients"
    assert error["fields"] == {"recipients": 5, "blocked": {"no_consent": 3, "stop_list": 2}}
    with rt.session() as s:
        assert s.get(Campaign, made["id"]).status == "draft"
    assert count(rt, Message) == 0


def test_start_decides_every_recipient_sends_the_consented_and_reports_each_number(
    rt, client, tenant, promo
):
    book = make_book(rt, tenant["id"], 6)
    consent(rt, tenant["id"], [phone(i) for i in (0, 1, 2, 3)])
    stop(rt, tenant["id"], phone(3))
    made = create(client, tenant, campaign_body(book))
    h = tenant["headers"]
    started = client.post(f"/v1/campaigns/{made['id']}/start", headers=h)
    assert started.status_code == 200
    assert started.get_json()["status"] == "running"
    rows = {m.phone: m for m in messages(rt, made["id"])}
    assert {p: (m.status, m.reason) for p, m in rows.items()} == {
        phone(0): ("queued", None),
        phone(1): ("queued", None),
        phone(2): ("queued", None),
        phone(3): ("blocked", "stop_list"),
        phone(4): ("blocked", "no_consent"),
        phone(5): ("blocked", "no_consent"),
    }
    assert rows[phone(1)].text == f"Contact 1, скидка 10% до воскресенья!\n{FOOTER}"
    assert rows[phone(1)].template_id == promo  # the template version it used

    run_worker(rt)
    assert sorted(s["phone"] for s in sandbox_sends(rt)) == [phone(0), phone(1), phone(2)]
    progress = client.get(f"/v1/campaigns/{made['id']}/progress", headers=h).get_json()
    assert progress["counts"] == {"delivered": 3, "blocked": 3}
    assert (progress["planned"], progress["sent"], progress["remaining"]) == (6, 3, 0)
    assert progress["blocked_by_reason"] == {"stop_list": 1, "no_consent": 2}
    assert progress["complete"] is True and progress["eta"] is None

    report = client.get(f"/v1/campaigns/{made['id']}/report?format=csv", headers=h)
    assert report.status_code == 200
    assert report.headers["Content-Type"].startswith("text/csv")
    text = report.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    by_phone = {r["phone"]: r for r in table}
    assert set(by_phone) == {phone(i) for i in range(6)}
    assert by_phone[phone(0)]["status"] == "delivered"
    assert by_phone[phone(0)]["sent_at"] == "2026-01-15 15:00:00"  # Minsk time
    assert by_phone[phone(0)]["name"] == "Contact 0"
    assert by_phone[phone(4)]["reason"] == "no_consent"
    assert by_phone[phone(0)]["cost"] != "" and by_phone[phone(0)]["segments"] == "1"


def test_progress_blocked_equals_the_sum_of_blocked_by_reason(rt, client, tenant, promo):
    """Blocks at planning, at send time (a STOP that came after planning) and a blocked row
    recorded without a reason are all counted, per reason, from the same rows."""
    book = make_book(rt, tenant["id"], 4)
    consent(rt, tenant["id"], [phone(i) for i in (0, 1, 2)])
    made = create(client, tenant, campaign_body(book))
    h, cid = tenant["headers"], made["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=h)
    stop(rt, tenant["id"], phone(0))  # after planning: the worker blocks it at send
    run_worker(rt)
    with rt.session() as s:
        row = s.scalar(select(Message).where(Message.campaign_id == cid, Message.phone == phone(1)))
        row.status, row.reason = "blocked", None  # e.g. a row from before reasons were kept
        s.commit()
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert progress["blocked"] == 3
    assert progress["blocked_by_reason"] == {"no_consent": 1, "stop_list": 1, "unspecified": 1}
    assert sum(progress["blocked_by_reason"].values()) == progress["blocked"]


def test_report_downloads_as_xlsx(rt, client, tenant, promo):
    from openpyxl import load_workbook

    book = make_book(rt, tenant["id"], 2)
    consent(rt, tenant["id"], [phone(0)])
    made = create(client, tenant, campaign_body(book))
    client.post(f"/v1/campaigns/{made['id']}/start", headers=tenant["headers"])
    resp = client.get(f"/v1/campaigns/{made['id']}/report?format=xlsx", headers=tenant["headers"])
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(resp.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    found = {r[header.index("phone")]: r[header.index("status")] for r in rows[1:]}
    assert found == {phone(0): "queued", phone(1): "blocked"}
    bad = client.get(f"/v1/campaigns/{made['id']}/report?format=pdf", headers=tenant["headers"])
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_query")


def test_pause_parks_unsent_messages_and_resume_paces_them_again(rt, client, tenant, promo, clock):
    book = make_book(rt, tenant["id"], 6)
    consent(rt, tenant["id"], [phone(i) for i in range(6)])
    made = create(client, tenant, campaign_body(book, pace={"count": 2, "minutes": 10}))
    h, cid = tenant["headers"], made["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=h)
    run_worker(rt)  # the first slot (2 messages) is due now
    assert len(sandbox_sends(rt)) == 2

    paused = client.post(f"/v1/campaigns/{cid}/pause", headers=h)
    assert paused.get_json()["status"] == "paused"
    parked = [m for m in messages(rt, cid) if m.status == "scheduled"]
    assert len(parked) == 4
    assert all(m.not_before == PAUSED_UNTIL and m.reason_detail == "paused" for m in parked)
    clock.advance(minutes=30)
    assert deliver(rt, [m.id for m in parked]).claimed == 0  # nothing parked is sendable
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert (progress["paused"], progress["eta"]) == (4, None)
    # what resume then does: 4 parked, 2 per 10 minutes from now (15:30) → last slot 15:40
    assert progress["eta_if_resumed_now"] == "2026-01-15T15:40:00+03:00"
    assert client.post(f"/v1/campaigns/{cid}/pause", headers=h).status_code == 409

    resumed = client.post(f"/v1/campaigns/{cid}/resume", headers=h)
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "running"
    now = clock.now
    slots = sorted(m.not_before for m in messages(rt, cid) if m.status in ("queued", "scheduled"))
    assert slots == [now, now, now + minutes(10), now + minutes(10)]
    with rt.session() as s:
        details = s.scalars(
            select(MessageHistory.detail).where(MessageHistory.message_id == parked[0].id)
        ).all()
    assert details == [None, "paused", "resumed"]
    run_worker(rt)
    assert len(sandbox_sends(rt)) == 4
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert progress["eta"] == "2026-01-15T15:40:00+03:00"  # the last slot, 10 min after resume
    with rt.session() as s:
        audited = s.execute(
            select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.target_id == str(cid))
            .order_by(AuditEntry.id)
        ).all()
    assert [(a, b and b.get("status"), c.get("status")) for a, b, c in audited] == [
        ("campaign.create", None, "draft"),
        ("campaign.start", "draft", "running"),
        ("campaign.pause", "running", "paused"),
        ("campaign.resume", "paused", "running"),
    ]


def test_pause_and_resume_before_the_start_keep_the_start_and_the_pace(
    rt, client, tenant, promo, clock
):
    book = make_book(rt, tenant["id"], 5)
    consent(rt, tenant["id"], [phone(i) for i in range(5)])
    body = campaign_body(book, start_at="2026-01-15T18:00", pace={"count": 2, "minutes": 10})
    made = create(client, tenant, body)
    h, cid = tenant["headers"], made["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=h)
    start = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 18:00 in Minsk; now is 15:00 there
    planned = sorted(m.not_before for m in messages(rt, cid))
    assert planned == [start, start, start + minutes(10), start + minutes(10), start + minutes(20)]

    client.post(f"/v1/campaigns/{cid}/pause", headers=h)
    clock.advance(minutes=30)  # still before the start
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert progress["eta_if_resumed_now"] == "2026-01-15T18:20:00+03:00"

    resumed = client.post(f"/v1/campaigns/{cid}/resume", headers=h)
    assert resumed.status_code == 200
    rows = messages(rt, cid)
    assert sorted(m.not_before for m in rows) == planned  # same start, same pace
    assert {m.status for m in rows} == {"scheduled"}
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert progress["eta"] == "2026-01-15T18:20:00+03:00"  # agrees with eta_if_resumed_now
    run_worker(rt)
    assert sandbox_sends(rt) == []  # nothing goes before the start


def test_eta_if_resumed_now_is_the_last_slot_resume_gives(rt, client, tenant, promo, clock):
    book = make_book(rt, tenant["id"], 7)
    consent(rt, tenant["id"], [phone(i) for i in range(7)])
    made = create(client, tenant, campaign_body(book, pace={"count": 3, "minutes": 15}))
    h, cid = tenant["headers"], made["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=h)
    client.post(f"/v1/campaigns/{cid}/pause", headers=h)
    clock.advance(minutes=7)
    promised = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    client.post(f"/v1/campaigns/{cid}/resume", headers=h)
    last = max(m.not_before for m in messages(rt, cid))
    got = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert last == clock.now + minutes(30)  # 7 recipients, 3 per 15 minutes from now
    assert promised["eta_if_resumed_now"] == got["eta"] == "2026-01-15T15:37:00+03:00"


def test_cancel_stops_unsent_messages_and_further_changes(rt, client, tenant, promo):
    book = make_book(rt, tenant["id"], 3)
    consent(rt, tenant["id"], [phone(i) for i in range(3)])
    made = create(client, tenant, campaign_body(book, start_at="2026-01-16T12:00"))
    h, cid = tenant["headers"], made["id"]
    client.post(f"/v1/campaigns/{cid}/start", headers=h)
    assert {m.status for m in messages(rt, cid)} == {"scheduled"}
    assert client.patch(f"/v1/campaigns/{cid}", json={"name": "x"}, headers=h).status_code == 409
    assert client.delete(f"/v1/campaigns/{cid}", headers=h).status_code == 409
    resp = client.post(f"/v1/campaigns/{cid}/cancel", headers=h)
    assert resp.get_json()["status"] == "cancelled"
    assert {(m.status, m.reason_detail) for m in messages(rt, cid)} == {
        ("cancelled", "campaign cancelled")
    }
    again = client.post(f"/v1/campaigns/{cid}/start", headers=h)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "invalid_campaign_state")


def test_test_send_keeps_the_campaigns_category(rt, client, tenant, promo):
    """A marketing campaign's test message is marketing: it needs the test number's consent
    and is recorded as marketing, like the messages the campaign will send."""
    book = make_book(rt, tenant["id"], 2)
    made = create(client, tenant, campaign_body(book))
    h, cid = tenant["headers"], made["id"]
    missing = client.post(f"/v1/campaigns/{cid}/test", headers=h)
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (
        422,
        "test_phone_required",
    )
    client.patch(f"/v1/campaigns/{cid}", json={"test_phone": "8 029 555-44-33"}, headers=h)
    refused = client.post(f"/v1/campaigns/{cid}/test", headers=h).get_json()
    assert (refused["status"], refused["reason"]) == ("blocked", "no_consent")
    consent(rt, tenant["id"], ["+375295554433"])
    resp = client.post(f"/v1/campaigns/{cid}/test", headers=h)
    assert resp.status_code == 202, resp.get_json()
    out = resp.get_json()
    assert (out["phone"], out["status"]) == ("+375295554433", "queued")
    assert out["text"] == f"Contact 0, скидка 10% до воскресенья!\n{FOOTER}"
    run_worker(rt)
    assert [s["phone"] for s in sandbox_sends(rt)] == ["+375295554433"]
    with rt.session() as s:
        msg = s.get(Message, out["id"])
        assert (msg.category, msg.campaign_id) == ("marketing", None)
        assert msg.context == {"campaign": {"id": cid, "test": True}}
        assert s.get(Message, refused["id"]).category == "marketing"
    sample = client.post(
        f"/v1/campaigns/{cid}/test", json={"data": {"contact": {"name": "Ольга"}}}, headers=h
    )
    assert sample.get_json()["text"].startswith("Ольга, скидка")
    progress = client.get(f"/v1/campaigns/{cid}/progress", headers=h).get_json()
    assert progress["planned"] == 0  # test sends are not the campaign's messages


def test_test_send_of_a_transactional_campaign_is_transactional(rt, client, tenant):
    template(rt, tenant["id"], name="notice", category="transactional", text="Пункт выдачи закрыт")
    book = make_book(rt, tenant["id"], 1)
    body = campaign_body(book, template="notice", category="transactional")
    made = create(client, tenant, {**body, "test_phone": "+375295554433"})
    out = client.post(f"/v1/campaigns/{made['id']}/test", headers=tenant["headers"]).get_json()
    assert out["status"] == "queued"  # no consent needed
    with rt.session() as s:
        assert s.get(Message, out["id"]).category == "transactional"


def test_quiet_hours_push_recipients_of_a_late_campaign_to_the_morning(
    rt, client, tenant, promo, clock
):
    clock.set(datetime(2026, 1, 15, 19, 50, tzinfo=UTC))  # 22:50 in Minsk
    book = make_book(rt, tenant["id"], 4)
    consent(rt, tenant["id"], [phone(i) for i in range(4)])
    made = create(client, tenant, campaign_body(book, pace={"count": 2, "minutes": 15}))
    client.post(f"/v1/campaigns/{made['id']}/start", headers=tenant["headers"])
    got = [(m.status, m.not_before, m.reason) for m in messages(rt, made["id"])]
    morning = datetime(2026, 1, 16, 4, 0, tzinfo=UTC)  # 07:00 Minsk
    assert got == [
        ("queued", clock.now, None),
        ("queued", clock.now, None),
        ("scheduled", morning, "quiet_hours"),
        ("scheduled", morning, "quiet_hours"),
    ]


def test_campaign_list_pages_newest_first_and_filters_by_status(rt, client, tenant, promo):
    book = make_book(rt, tenant["id"], 1)
    ids = [create(client, tenant, campaign_body(book, name=f"c{i}"))["id"] for i in range(3)]
    h = tenant["headers"]
    first = client.get("/v1/campaigns?limit=2", headers=h).get_json()
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    rest = client.get(f"/v1/campaigns?limit=2&cursor={first['next_cursor']}", headers=h)
    assert [c["id"] for c in rest.get_json()["items"]] == [ids[0]]
    assert rest.get_json()["next_cursor"] is None
    assert client.get("/v1/campaigns?status=running", headers=h).get_json()["items"] == []
    for bad in ("status=lost", "limit=501", "cursor=x"):
        resp = client.get(f"/v1/campaigns?{bad}", headers=h)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (400, "invalid_query"), bad
    taken = client.post("/v1/campaigns", json=campaign_body(book, name="c0"), headers=h)
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "campaign_exists")
