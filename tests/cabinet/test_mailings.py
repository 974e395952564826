"""The mailing pages through HTTP: the new-mailing wizard (book, file, typed numbers; free text
with Viber options, template; preview, live counts), the dry run, the test send, start, pause,
resume, cancel, edit and delete, the report, the single message and greetings; bad input,
roles and another store's ids."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from relay.campaigns.campaigns import get_campaign
from relay.campaigns.listing import campaign_page
from relay.campaigns.progress import progress
from relay.storage.models import AddressBook, Contact, Message, Template, Tenant
from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.relay.api.test_campaigns_fixtures import consent, make_book, phone, stop, template
from tests.support.factories import make_tenant, run_worker

OWNER = "+375291234567"
VIEWER = "+375297654321"
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture
def shop(rt, tenant):
    add_user(rt, tenant["id"], OWNER, "owner")
    return tenant


@pytest.fixture
def owner(client, shop):
    sign_in(client, OWNER)
    return client


def campaigns(rt, tenant_id):
    with rt.session() as s:
        rows, _ = campaign_page(s, tenant_id, None, 100)
        s.expunge_all()
        return rows


def count(rt, model, *where):
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def wizard(**extra):
    return {
        "name": "Весна",
        "channel": "sms",
        "recipients": "book",
        "content": "text",
        # names the store (shop-by): advertising must say who advertises
        "text": "{{ contact.name or 'Здравствуйте' }}, скидка 10% в shop-by!",
        "category": "marketing",
        "recurrence": "once",
        "action": "create",
        **extra,
    }


def test_every_mailing_page_answers_an_owner(owner, shop, rt):
    for path in (
        "/cabinet/mailings/new",
        "/cabinet/messages/new",
        "/cabinet/greetings",
        "/cabinet/mailings",
    ):
        resp = owner.get(path)
        assert resp.status_code == 200, (path, text(resp)[:2000])
        assert "скоро появится" not in text(resp)


def test_a_mailing_to_a_book_is_saved_dry_run_tested_started_and_sent(owner, shop, rt):
    book = make_book(rt, shop["id"], 4)
    consent(rt, shop["id"], [phone(0), phone(1), phone(2), OWNER])
    stop(rt, shop["id"], phone(2))
    resp = post(
        owner, "/cabinet/mailings/new", wizard(book_id=str(book), pace_count="2", pace_minutes="10")
    )
    assert resp.status_code == 302, text(resp)
    [c] = campaigns(rt, shop["id"])
    assert (c.status, c.book_id, c.pace_count, c.pace_minutes, c.channels) == (
        "draft",
        book,
        2,
        10,
        ["sms"],
    )
    assert resp.headers["Location"].endswith(f"/cabinet/mailings/{c.id}/dry-run")
    assert count(rt, Message) == 0
    dry = owner.get(resp.headers["Location"])
    body = text(dry)
    assert dry.status_code == 200 and "Пробный запуск" in body
    # 4 recipients: 2 sendable, 1 on a stop-list, 1 without consent
    assert '<span class="figure">4</span> <span class="label">получателей' in body
    assert '<span class="figure">2</span> <span class="label">будет отправлено' in body
    assert "в стоп-листе: 1" in body and "нет согласия на рекламу: 1" in body
    assert count(rt, Message) == 0  # a dry run writes nothing

    test_resp = post(owner, f"/cabinet/mailings/{c.id}/test", {"phone": OWNER})
    assert test_resp.status_code == 200 and "Тестовое сообщение" in text(test_resp)
    assert count(rt, Message, Message.phone == OWNER) == 1

    started = post(owner, f"/cabinet/mailings/{c.id}/start")
    assert started.status_code == 302
    page = owner.get(started.headers["Location"])
    assert "Рассылка запущена." in text(page)
    with rt.session() as s:
        c2 = get_campaign(s, shop["id"], c.id)
        assert c2.status == "running"
        p = progress(s, s.get(Tenant, shop["id"]), c2, rt.now())
    assert p["planned"] == 4 and p["blocked"] == 2
    run_worker(rt)
    live = owner.get(f"/cabinet/mailings/{c.id}/progress.json").get_json()
    assert live["sent"] >= 1 and live["planned"] == 4
    report = owner.get(f"/cabinet/mailings/{c.id}/report.csv")
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True))))
    assert len(rows) == 5  # the header and one row per recipient
    xlsx = owner.get(f"/cabinet/mailings/{c.id}/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    listing = text(owner.get("/cabinet/mailings"))
    assert "Весна" in listing and 'class="meter"' in listing


def test_pause_resume_cancel_and_the_states_they_refuse(owner, shop, rt):
    book = make_book(rt, shop["id"], 3)
    consent(rt, shop["id"], [phone(0), phone(1), phone(2)])
    post(
        owner, "/cabinet/mailings/new", wizard(book_id=str(book), pace_count="1", pace_minutes="60")
    )
    [c] = campaigns(rt, shop["id"])
    assert post(owner, f"/cabinet/mailings/{c.id}/resume").status_code == 409
    assert post(owner, f"/cabinet/mailings/{c.id}/start").status_code == 302
    assert post(owner, f"/cabinet/mailings/{c.id}/pause").status_code == 302
    assert campaigns(rt, shop["id"])[0].status == "paused"
    refused = post(owner, f"/cabinet/mailings/{c.id}/delete")
    assert refused.status_code == 409 and "в текущем состоянии" in text(refused)
    assert post(owner, f"/cabinet/mailings/{c.id}/resume").status_code == 302
    assert campaigns(rt, shop["id"])[0].status == "running"
    assert post(owner, f"/cabinet/mailings/{c.id}/cancel").status_code == 302
    assert campaigns(rt, shop["id"])[0].status == "cancelled"
    again = post(owner, f"/cabinet/mailings/{c.id}/cancel")
    assert again.status_code == 409


def test_nobody_may_receive_it_is_a_422_with_the_reasons(owner, shop, rt):
    book = make_book(rt, shop["id"], 2)
    post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    [c] = campaigns(rt, shop["id"])
    resp = post(owner, f"/cabinet/mailings/{c.id}/start")
    assert resp.status_code == 422
    assert "Никто из получателей" in text(resp) and "нет согласия на рекламу: 2" in text(resp)
    assert campaigns(rt, shop["id"])[0].status == "draft"


def test_edit_before_start_and_delete_a_draft(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    other = make_book(rt, shop["id"], 2, name="other")
    post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    [c] = campaigns(rt, shop["id"])
    form = owner.get(f"/cabinet/mailings/{c.id}/edit")
    # a free-text mailing is edited as text, not as a template to pick
    assert form.status_code == 200 and "скидка 10% в shop-by!" in text(form)
    assert c.template not in text(form)
    resp = post(owner, f"/cabinet/mailings/{c.id}/edit", {
        "name": "Лето", "book_id": str(other), "channel": "sms",
        "text": "Летняя скидка 15% в shop-by!",
        "category": "marketing", "recurrence": "monthly", "start_at": "2026-06-01T11:00",
        "pace_count": "", "pace_minutes": ""})  # fmt: skip
    assert resp.status_code == 302, text(resp)
    [c2] = campaigns(rt, shop["id"])
    assert (c2.name, c2.book_id, c2.recurrence, c2.template) == ("Лето", other, "monthly",
                                                                  c.template)  # fmt: skip
    with rt.session() as s:
        versions = s.scalars(select(Template.sms_text).where(Template.name == c.template)
                             .order_by(Template.version)).all()  # fmt: skip
    assert versions[-1] == "Летняя скидка 15% в shop-by!" and len(versions) == 2
    empty = post(owner, f"/cabinet/mailings/{c.id}/edit", {
        "name": "Лето", "book_id": str(other), "channel": "sms", "text": "  "})  # fmt: skip
    assert empty.status_code == 422 and 'id="error-text"' in text(empty)
    bad = post(owner, f"/cabinet/mailings/{c.id}/edit", {
        "name": "Лето", "book_id": str(other), "text": "Летняя скидка 15% в shop-by!",
        "channel": "sms", "start_at": "next tuesday"})  # fmt: skip
    assert bad.status_code == 422 and 'id="error-start_at"' in text(bad)
    assert campaigns(rt, shop["id"])[0].start_at is not None  # unchanged
    assert post(owner, f"/cabinet/mailings/{c.id}/delete").status_code == 302
    assert campaigns(rt, shop["id"]) == []


def test_a_mailing_with_a_chosen_template_is_edited_by_choosing_another(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    [free] = campaigns(rt, shop["id"])
    resp = post(owner, "/cabinet/mailings/new", wizard(
        book_id=str(book), name="Из шаблона", content="template",
        template=free.template))  # fmt: skip
    assert resp.status_code == 302, text(resp)
    chosen = next(c for c in campaigns(rt, shop["id"]) if c.name == "Из шаблона")
    form = text(owner.get(f"/cabinet/mailings/{chosen.id}/edit"))
    assert 'name="template"' in form and 'name="text"' not in form


def test_typed_numbers_and_viber_with_a_button_make_a_book_and_a_template(owner, shop, rt):
    resp = post(owner, "/cabinet/mailings/new", wizard(
        recipients="numbers", numbers=f"{phone(0)}\n+375 29 200-01-55, {phone(0)}",
        channel="viber_sms", viber_type="button", button_caption="Купить",
        button_url="https://shop.example/sale"))  # fmt: skip
    assert resp.status_code == 302, text(resp)
    [c] = campaigns(rt, shop["id"])
    assert c.channels == ["viber", "sms"]
    with rt.session() as s:
        phones = sorted(s.scalars(select(Contact.phone).where(Contact.book_id == c.book_id)))
        tpl = s.scalar(select(Template).where(Template.name == c.template))
        assert tpl.viber == {"button": {"caption": "Купить", "url": "https://shop.example/sale"}}
        assert tpl.sms_text.startswith("{{ contact.name")
    assert phones == sorted({phone(0), "+375292000155"})


def test_a_file_upload_is_imported_with_its_header(owner, shop, rt):
    data = "Телефон;Имя\n+375292000055;Анна\n+375292000155;Борис\n".encode()
    resp = post(owner, "/cabinet/mailings/new", {
        **wizard(recipients="file"), "file": (io.BytesIO(data), "clients.csv")},
        content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 302, text(resp)
    [c] = campaigns(rt, shop["id"])
    with rt.session() as s:
        names = sorted(s.scalars(select(Contact.name).where(Contact.book_id == c.book_id)))
    assert names == ["Анна", "Борис"]


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"name": ""}, "name", 422),
        ({"book_id": "999999"}, "book_id", 404),
        ({"recipients": "numbers", "numbers": "12\nhello"}, "numbers", 422),
        ({"recipients": "file"}, "file", 422),
        ({"text": ""}, "text", 422),
        ({"text": "{{ broken"}, "text", 422),
        ({"content": "template", "template": "nope"}, "template", 422),
        ({"channel": "fax"}, "channel", 422),
        ({"channel": "viber", "viber_type": "image", "viber_image": "ftp://x"}, "viber_image", 422),
        ({"start_at": "next tuesday"}, "start_at", 422),
        ({"pace_count": "0", "pace_minutes": "10"}, "pace_count", 422),
        ({"pace_count": "abc", "pace_minutes": "10"}, "pace_count", 422),
        ({"test_phone": "12"}, "test_phone", 422),
        ({"local_time": "25:00"}, "local_time", 422),
        ({"local_time": "11:00", "local_until": "10:00"}, "local_until", 422),
        ({"local_until": "14:00"}, "local_until", 422),
        ({"best_hour": "1"}, "best_hour", 422),
        ({"sender": "Way Too Long Sender Name"}, "sender", 422),
    ],
)
def test_bad_wizard_input_is_shown_on_its_field_and_nothing_is_written(
    owner, shop, rt, change, field, status
):
    book = make_book(rt, shop["id"], 1)
    before = (count(rt, AddressBook), count(rt, Template))
    resp = post(owner, "/cabinet/mailings/new", {**wizard(book_id=str(book)), **change})
    assert resp.status_code == status, text(resp)
    body = text(resp)
    assert f'id="error-{field}"' in body or ('class="form-error"' in body), body
    assert campaigns(rt, shop["id"]) == []
    assert (count(rt, AddressBook), count(rt, Template)) == before


def test_a_mailing_at_each_recipients_own_time_in_a_window_with_the_best_hour(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    form = wizard(book_id=str(book), local_time="11:00", local_until="14:00", best_hour="1")
    resp = post(owner, "/cabinet/mailings/new", form)
    assert resp.status_code == 302, text(resp)
    [c] = campaigns(rt, shop["id"])
    assert (c.local_time, c.local_until, c.best_hour) == ("11:00", "14:00", True)
    page = text(owner.get(f"/cabinet/mailings/{c.id}"))
    assert "По часам каждого получателя, с 11:00 до 14:00." in page
    assert "чаще всего открывают ссылки или читают" in page
    edit = text(owner.get(f"/cabinet/mailings/{c.id}/edit"))
    assert 'value="11:00"' in edit and 'value="14:00"' in edit
    assert 'id="f-best_hour" name="best_hour" value="1" checked' in edit
    bad = post(owner, f"/cabinet/mailings/{c.id}/edit", {**edit_fields(c), "local_until": "09:00"})
    assert bad.status_code == 422 and 'id="error-local_until"' in text(bad)
    assert "должно быть время начала" in text(bad)
    assert get_local(rt, shop["id"], c.id) == ("11:00", "14:00", True)


def edit_fields(c):
    return {"name": c.name, "book_id": str(c.book_id), "channel": "sms", "category": c.category,
            "recurrence": "once", "local_time": c.local_time or "", "best_hour": "1",
            "text": "Скидка 10% в shop-by!"}  # fmt: skip


def get_local(rt, tenant_id, cid):
    with rt.session() as s:
        c = get_campaign(s, tenant_id, cid)
        return c.local_time, c.local_until, c.best_hour


def test_a_duplicate_name_is_409_on_the_name(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    resp = post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    assert resp.status_code == 409 and 'id="error-name"' in text(resp)


def test_preview_without_script_and_the_live_counts(owner, shop, rt):
    resp = post(owner, "/cabinet/mailings/new", wizard(text="Привет " + HOSTILE, action="preview"))
    body = text(resp)
    assert resp.status_code == 200 and "UCS-2" in body or "ucs2" in body.lower()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body and "<script>alert(2)" not in body
    assert campaigns(rt, shop["id"]) == []
    live = post(owner, "/cabinet/mailings/preview.json", {"text": "a" * 161, "channel": "sms"})
    j = live.get_json()
    assert live.status_code == 200 and j["segments"] == 2 and j["characters"] == 161
    bad = post(owner, "/cabinet/mailings/preview.json", {"text": "{{ broken", "channel": "sms"})
    assert bad.status_code == 422 and bad.get_json()["error"]


def test_hostile_names_and_texts_are_shown_escaped(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    post(owner, "/cabinet/mailings/new", wizard(book_id=str(book), name=HOSTILE))
    [c] = campaigns(rt, shop["id"])
    for path in ("/cabinet/mailings", f"/cabinet/mailings/{c.id}"):
        body = text(owner.get(path))
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body and "<script>alert(2)" not in body


def test_a_viewer_reads_but_gets_403_on_every_change(client, shop, rt):
    book = make_book(rt, shop["id"], 1)
    add_user(rt, shop["id"], VIEWER, "viewer")
    with rt.session() as s:
        from relay.campaigns.campaigns import create_campaign

        template(rt, shop["id"])
        c = create_campaign(
            s,
            s.get(Tenant, shop["id"]),
            {"name": "x", "book_id": book, "template": "promo"},
            rt.now(),
        )
        s.commit()
        cid = c.id
    sign_in(client, VIEWER)
    assert client.get("/cabinet/mailings").status_code == 200
    page = client.get(f"/cabinet/mailings/{cid}")
    assert page.status_code == 200 and "Запустить" not in text(page)
    assert client.get("/cabinet/greetings").status_code == 200
    for path in ("/cabinet/mailings/new", "/cabinet/messages/new"):
        page = client.get(path)
        assert page.status_code == 200 and "Менеджеры и владельцы могут отправлять" in text(page)
        assert 'name="text"' not in text(page)
    assert client.get(f"/cabinet/mailings/{cid}/edit").status_code == 403
    for path in ("/cabinet/mailings/new", "/cabinet/messages/new", "/cabinet/greetings",
                 f"/cabinet/mailings/{cid}/start", f"/cabinet/mailings/{cid}/pause",
                 f"/cabinet/mailings/{cid}/resume", f"/cabinet/mailings/{cid}/cancel",
                 f"/cabinet/mailings/{cid}/delete", f"/cabinet/mailings/{cid}/test",
                 f"/cabinet/mailings/{cid}/edit"):  # fmt: skip
        assert post(client, path, wizard(book_id=str(book))).status_code == 403, path
    assert [c.status for c in campaigns(rt, shop["id"])] == ["draft"]


def test_another_stores_mailing_is_404_everywhere(owner, shop, rt):
    other = make_tenant(rt, "other", "BY")
    book = make_book(rt, other["id"], 1)
    template(rt, other["id"])
    with rt.session() as s:
        from relay.campaigns.campaigns import create_campaign

        c = create_campaign(
            s,
            s.get(Tenant, other["id"]),
            {"name": "x", "book_id": book, "template": "promo"},
            rt.now(),
        )
        s.commit()
        cid = c.id
    for path in ("", "/dry-run", "/progress.json", "/report.csv", "/edit"):
        assert owner.get(f"/cabinet/mailings/{cid}{path}").status_code == 404, path
    for action in ("start", "pause", "resume", "cancel", "delete", "test", "edit"):
        assert post(owner, f"/cabinet/mailings/{cid}/{action}").status_code == 404, action
    # nor may a mailing of this store use the other store's book
    resp = post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    assert resp.status_code == 404 and campaigns(rt, shop["id"]) == []


def test_a_single_message_shows_its_decision(owner, shop, rt):
    resp = post(
        owner,
        "/cabinet/messages/new",
        {"phone": "29 200-00-55", "text": HOSTILE, "channel": "sms", "category": "transactional"},
    )
    body = text(resp)
    assert resp.status_code == 200 and "+375292000055" in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body and "<script>alert(2)" not in body
    with rt.session() as s:
        [m] = s.scalars(select(Message).where(Message.phone == "+375292000055")).all()
    assert m.category == "transactional" and m.status in ("queued", "scheduled")
    blocked = post(
        owner,
        "/cabinet/messages/new",
        {"phone": phone(1), "text": "Скидка!", "channel": "sms", "category": "marketing"},
    )
    assert "заблокировано" in text(blocked) and "нет согласия на рекламу" in text(blocked)
    for bad, field in (({"phone": "12"}, "phone"), ({"text": ""}, "text")):
        resp = post(owner, "/cabinet/messages/new", {"phone": phone(1), "text": "Привет", **bad})
        assert resp.status_code == 422 and f'id="error-{field}"' in text(resp)
    assert count(rt, Message) == 2


def test_greetings_are_recurring_campaigns(owner, shop, rt):
    book = make_book(rt, shop["id"], 2)
    resp = post(
        owner,
        "/cabinet/greetings",
        {
            "occasion": "march8",
            "book_id": str(book),
            "content": "text",
            "text": "С 8 марта! Ваш shop-by",
            "channel": "sms",
            "time": "10:00",
        },
    )
    assert resp.status_code == 302, text(resp)
    resp = post(
        owner,
        "/cabinet/greetings",
        {
            "occasion": "birthday",
            "book_id": str(book),
            "content": "text",
            "text": "С днём рождения! Ваш shop-by",
            "channel": "sms",
            "time": "10:00",
        },
    )
    assert resp.status_code == 302, text(resp)
    by_kind = {c.kind: c for c in campaigns(rt, shop["id"])}
    assert by_kind["date"].greeting_date == "03-08" and by_kind["date"].recurrence == "yearly"
    assert by_kind["birthday"].recurrence == "daily"
    assert by_kind["birthday"].segment == {"filters": {}, "birthday_today": True}
    page = text(owner.get("/cabinet/greetings"))
    assert "8 марта" in page and "каждый день, в дни рождения" in page
    bad = post(
        owner,
        "/cabinet/greetings",
        {
            "occasion": "custom",
            "greeting_date": "02-30",
            "book_id": str(book),
            "text": "x shop-by",
            "time": "10:00",
        },
    )
    assert bad.status_code == 422 and 'id="error-greeting_date"' in text(bad)
    bad = post(
        owner,
        "/cabinet/greetings",
        {"occasion": "feb23", "book_id": str(book), "text": "x shop-by", "time": "25:99"},
    )
    assert bad.status_code == 422 and 'id="error-time"' in text(bad)
    assert len(campaigns(rt, shop["id"])) == 2


@pytest.mark.parametrize("book_id", ["99999999999999999999999", "²", "-1", " "])
def test_junk_ids_are_form_errors_not_500s(owner, shop, rt, book_id):
    resp = post(owner, "/cabinet/mailings/new", wizard(book_id=book_id))
    assert resp.status_code == 422 and 'id="error-book_id"' in text(resp)
    resp = post(owner, "/cabinet/greetings", {"occasion": "feb23", "book_id": book_id, "text": "x"})
    assert resp.status_code == 422 and 'id="error-book_id"' in text(resp)
    assert owner.get("/cabinet/mailings", query_string={"cursor": book_id}).status_code == 200
    assert campaigns(rt, shop["id"]) == []


@pytest.mark.parametrize(
    ("name", "data"),
    [("clients.xlsx", b"\x00\x01not a workbook"), ("clients.csv", b""), ("c.csv", b"name\nx\n")],
)
def test_an_unreadable_file_is_a_form_error_and_no_book(owner, shop, rt, name, data):
    resp = post(
        owner,
        "/cabinet/mailings/new",
        {**wizard(recipients="file"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert 400 <= resp.status_code < 500, text(resp)
    assert 'id="error-file"' in text(resp) or 'class="form-error"' in text(resp)
    assert count(rt, AddressBook) == 0 and campaigns(rt, shop["id"]) == []


def test_a_greeting_is_previewed_on_yourself(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    post(owner, "/cabinet/greetings", {"occasion": "new_year", "book_id": str(book),
                                       "text": "С Новым годом, {{ contact.name }}!",
                                       "category": "transactional", "time": "10:00"})  # fmt: skip
    [c] = campaigns(rt, shop["id"])
    assert (c.kind, c.greeting_date) == ("date", "01-01")
    resp = post(owner, f"/cabinet/mailings/{c.id}/test", {"phone": OWNER})
    assert resp.status_code == 200 and "С Новым годом, Contact 0!" in text(resp)
    with rt.session() as s:
        [m] = s.scalars(select(Message).where(Message.phone == OWNER)).all()
    assert m.campaign_id is None and m.context["campaign"]["test"] is True
    bad = post(owner, f"/cabinet/mailings/{c.id}/test", {"phone": "12"})
    assert bad.status_code == 422 and 'id="error-phone"' in text(bad)


def test_the_pages_speak_english_too(owner, shop, rt):
    book = make_book(rt, shop["id"], 1)
    post(owner, "/cabinet/mailings/new", wizard(book_id=str(book)))
    [c] = campaigns(rt, shop["id"])
    post(owner, "/cabinet/language", {"locale": "en", "next": "/cabinet/mailings"})
    pages = {
        "/cabinet/mailings/new": "Name of the mailing",
        "/cabinet/mailings": "Mailings, newest first",
        f"/cabinet/mailings/{c.id}/dry-run": "will be sent",
        "/cabinet/messages/new": "Text of the message",
        "/cabinet/greetings": "New greeting",
    }
    for path, phrase in pages.items():
        resp = owner.get(path)
        assert resp.status_code == 200 and phrase in text(resp), path
    resp = post(owner, "/cabinet/mailings/new", wizard(text="Hello", action="preview"))
    assert "5 characters, GSM-7" in text(resp) or "5 characters, gsm" in text(resp).lower()
