"""Issue 4's "done when", through the API alone: upload an Excel address book, send a paced
campaign that respects consent, quiet hours and the stop-list, download the detail report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import Workbook

from tests.relay.api.test_campaigns_fixtures import release_scheduled
from tests.support.factories import run_worker, sandbox_sends

NUMBERS = ["+375291110055", "+375291110155", "+375291110255", "+375291110355"]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_book_paced_campaign_and_detail_report_through_the_api(
    rt, client, tenant, clock, tmp_path
):
    rt.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    h = tenant["headers"]
    # an Excel export as a shop would have it: Russian headers, one bad number
    data = xlsx(
        [
            ["Телефон", "Имя", "Город"],
            ["+375 29 111-00-55", "Анна", "Минск"],
            ["80291110155", "Борис", "Гомель"],
            ["375291110255", "Вера", "Минск"],
            ["+375291110355", "Глеб", "Брест"],
            ["12345", "Ошибка", "—"],
        ]
    )
    upload = client.post(
        "/v1/books/import",
        headers=h,
        content_type="multipart/form-data",
        data={"name": "Клиенты", "file": (io.BytesIO(data), "clients.xlsx")},
    )
    assert upload.status_code in (200, 201), upload.get_json()
    body = upload.get_json()
    book_id = body.get("book", {}).get("id") or body.get("book_id") or body.get("id")
    assert book_id
    contacts = client.get(f"/v1/books/{book_id}/contacts", headers=h).get_json()
    listed = contacts.get("items") or contacts.get("contacts")
    assert sorted(c["phone"] for c in listed) == NUMBERS

    # consent for three of them (one of which said STOP), none for the fourth
    for phone in NUMBERS[:3]:
        resp = client.post(
            "/v1/consents",
            headers=h,
            json={
                "phone": phone,
                "granted": True,
                "source": "subscription_form",
                "wording": "Согласен получать SMS о скидках",
            },
        )
        assert resp.status_code in (200, 201), resp.get_json()
    assert client.post(
        "/v1/stoplist/entries",
        headers=h,
        json={"phone": NUMBERS[2], "channel": "all", "note": "asked by phone"},
    ).status_code in (200, 201)
    template = client.post(
        "/v1/templates",
        headers=h,
        json={
            "name": "winter",
            "category": "marketing",
            "sms_text": "{{ contact.name or 'Здравствуйте' }}, скидка 10% до воскресенья!",
            "overrides": [{"rule": "no_sender", "justification": "our alpha name says who we are"}],
        },
    )
    assert template.status_code == 201, template.get_json()

    # the campaign starts at 22:50 Minsk time, one message per 20 minutes
    clock.set(datetime(2026, 1, 15, 19, 50, tzinfo=UTC))
    made = client.post(
        "/v1/campaigns",
        headers=h,
        json={
            "name": "Зимняя распродажа",
            "book_id": book_id,
            "template": "winter",
            "pace": {"count": 1, "minutes": 20},
        },
    )
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    started = client.post(f"/v1/campaigns/{cid}/start", headers=h)
    assert started.status_code in (200, 202), started.get_json()
    run_worker(rt)
    assert [s["phone"] for s in sandbox_sends(rt)] == [NUMBERS[0]]  # the first slot, 22:50
    # the second slot (23:10) falls into quiet hours: the policy defers it to 07:00
    clock.set(datetime(2026, 1, 16, 4, 0, tzinfo=UTC))
    release_scheduled(rt)
    run_worker(rt)
    assert [s["phone"] for s in sandbox_sends(rt)] == NUMBERS[:2]

    report = client.get(f"/v1/campaigns/{cid}/report?format=csv", headers=h)
    assert report.status_code == 200
    rows = {
        r["phone"]: r
        for r in csv.DictReader(io.StringIO(report.get_data().decode("utf-8").lstrip("\ufeff")))
    }
    assert {p: (r["status"], r["reason"]) for p, r in rows.items()} == {
        NUMBERS[0]: ("delivered", ""),
        NUMBERS[1]: ("delivered", ""),  # deferred by quiet hours, then sent at 07:00
        NUMBERS[2]: ("blocked", "stop_list"),
        NUMBERS[3]: ("blocked", "no_consent"),
    }
    assert rows[NUMBERS[1]]["sent_at"].startswith("2026-01-16 07:00")
