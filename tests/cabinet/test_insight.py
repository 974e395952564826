"""The insight pages through HTTP: Detail (filters, a message's reasons and history, another
store's message, bad filters, export), Statistics (the numbers of GET /v1/reports/stats),
Replies (escaped texts), Explain (POST /v1/policy/explain's decision) and Settings."""

from __future__ import annotations

import json
import re

import pytest

from tests.cabinet.helpers import add_user, post, sign_in, text
from tests.support.factories import make_tenant, order_event, run_worker

PHONE = "+375291234567"
BLOCKED = "+375296667788"


@pytest.fixture
def traffic(rt, client, tenant, clock):
    """Three order messages of the store: delivered, blocked (stop-list), undelivered."""
    from relay.compliance.stoplist import add_stop

    with rt.session() as s:
        add_stop(s, tenant["id"], BLOCKED, "admin", rt.now())
        s.commit()
    for i, phone in enumerate(("+375291112233", BLOCKED, "+375291112200")):
        ev = order_event(f"o-{i}", phone, "processing", "2026-01-15T11:00:00+00:00")
        assert client.post("/v1/events", json=ev, headers=tenant["headers"]).status_code == 202
    run_worker(rt)
    clock.advance(minutes=1)
    return tenant


def viewer(rt, client, tenant, phone=PHONE):
    add_user(rt, tenant["id"], phone, "viewer")
    sign_in(client, phone)


def api_messages(client, tenant, **query):
    resp = client.get("/v1/messages", query_string=query, headers=tenant["headers"])
    return resp.get_json()["items"]


def test_detail_lists_filters_and_opens_a_blocked_message_with_its_reason(rt, client, traffic):
    viewer(rt, client, traffic)
    page = client.get("/cabinet/detail")
    body = text(page)
    assert page.status_code == 200 and "<h1>Детализация</h1>" in body
    for phone in ("+375291112233", BLOCKED, "+375291112200"):
        assert phone in body
    blocked = client.get("/cabinet/detail", query_string={"status": "blocked"})
    body = text(blocked)
    assert BLOCKED in body and "+375291112233" not in body
    [row] = api_messages(client, traffic, status="blocked")
    assert row["reason"] == "stop_list" and "в стоп-листе" in body  # in the user's language
    one = client.get(f"/cabinet/detail/{row['id']}")
    body = text(one)
    assert one.status_code == 200 and "История статусов" in body
    assert "в стоп-листе" in body and "<code>stop_list</code>" in body
    # the id search leads to the same page
    found = client.get("/cabinet/detail", query_string={"id": row["id"]})
    assert found.status_code == 302 and found.headers["Location"].endswith(row["id"])
    # the phone filter, written as people write it
    by_phone = text(client.get("/cabinet/detail", query_string={"phone": "29 111-22-33"}))
    assert "+375291112233" in by_phone and BLOCKED not in by_phone
    # the operator summary counts the SMS
    assert "SMS по операторам" in by_phone


def test_detail_refuses_bad_filters_with_a_message_and_400(rt, client, traffic):
    viewer(rt, client, traffic)
    for query, words in (
        ({"from": "yesterday"}, "Укажите начало периода"),
        ({"status": "lost"}, "Выберите статус из списка"),
        ({"phone": "12"}, "номер"),
        ({"mailing": "x"}, "Рассылка указывается номером"),
        ({"from": "2026-01-10", "to": "2026-01-01"}, "Укажите конец периода"),
        ({"cursor": "!!!"}, "Ссылка на эту страницу"),
    ):
        resp = client.get("/cabinet/detail", query_string=query)
        assert resp.status_code == 400, query
        assert words in text(resp), (query, text(resp)[-3000:])


def test_another_stores_message_is_404(rt, client, traffic):
    other = make_tenant(rt, "other-shop", "BY")
    ev = order_event("x-1", "+375291110000", "processing", "2026-01-15T11:00:00+00:00")
    assert client.post("/v1/events", json=ev, headers=other["headers"]).status_code == 202
    run_worker(rt)
    [theirs] = api_messages(client, other)
    viewer(rt, client, traffic)
    resp = client.get(f"/cabinet/detail/{theirs['id']}")
    assert resp.status_code == 404 and "+375291110000" not in text(resp)
    assert client.get("/cabinet/detail/nope").status_code == 404


def test_detail_exports_csv_and_xlsx(rt, client, traffic):
    viewer(rt, client, traffic)
    csv = client.get("/cabinet/detail/export", query_string={"format": "csv", "status": "blocked"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    body = csv.get_data(as_text=True)
    assert BLOCKED in body and "+375291112233" not in body
    xlsx = client.get("/cabinet/detail/export", query_string={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert client.get("/cabinet/detail/export", query_string={"format": "pdf"}).status_code == 400


def embedded_stats(body):
    found = re.search(r'<script type="application/json" id="stats-data">(.*?)</script>', body, re.S)
    assert found, "no embedded statistics"
    return json.loads(found.group(1))


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-01-01", "to": "2026-01-31"},
        {"from": "2026-01-10", "to": "2026-03-31", "group": "week"},
        {},
    ],
)
def test_statistics_embeds_exactly_the_numbers_of_the_reports_api(rt, client, traffic, query):
    viewer(rt, client, traffic)
    page = client.get("/cabinet/statistics", query_string=query)
    body = text(page)
    assert page.status_code == 200 and "<h1>Статистика</h1>" in body
    api_query = {k: v for k, v in query.items()}
    if not query:  # the page's default period: the last 30 local days
        api_query = {}
    api = client.get("/v1/reports/stats", query_string=api_query, headers=traffic["headers"])
    assert api.status_code == 200
    data = embedded_stats(body)
    assert data["stats"] == api.get_json()
    assert data["stats"]["totals"]["by_status"] == {"delivered": 1, "blocked": 1, "undelivered": 1}
    # every chart has its table, which shows without JavaScript
    for caption in (
        "Сообщения по статусам",
        "Расходы",
        "Сообщения по оператору получателя",
        "Сообщения Viber по типу трафика",
        "Доля доставленных и прочитанных, в процентах",
    ):
        assert f"<caption>{caption}" in body, caption
    assert "vendor/chartjs/chart.umd.min.js" in body and "cdn" not in body.lower()
    assert client.get("/cabinet/static/vendor/chartjs/chart.umd.min.js").status_code == 200


def test_statistics_refuses_a_bad_period_with_400(rt, client, traffic):
    viewer(rt, client, traffic)
    for query in ({"from": "soon"}, {"from": "2026-02-01", "to": "2026-01-01"}, {"group": "year"}):
        resp = client.get("/cabinet/statistics", query_string=query)
        assert resp.status_code == 400 and 'class="error"' in text(resp), query


HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_replies_show_routing_and_escape_the_texts(rt, client, traffic):
    for phone, text_ in (("+375291119999", HOSTILE), ("+375291112233", "СТОП"),
                         ("+375291117777", "[CALL]")):  # fmt: skip
        resp = client.post("/v1/sandbox/inbound", json={"from": phone, "text": text_},
                           headers=traffic["headers"])  # fmt: skip
        assert resp.status_code == 202
    run_worker(rt)
    viewer(rt, client, traffic)
    page = client.get("/cabinet/replies")
    body = text(page)
    assert page.status_code == 200 and "<h1>Ответы</h1>" in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body and "<script>alert(2)" not in body
    assert "<img src=x" not in body and "+375291112233" in body
    assert "песочница" in body and "отписался" in body
    unrouted = text(client.get("/cabinet/replies", query_string={"unrouted": "1"}))
    assert "&lt;script&gt;" in unrouted  # from a number the store never wrote to
    assert "отписался" not in unrouted  # tied to the store's message to that number
    assert client.get("/cabinet/replies", query_string={"before": "x"}).status_code == 400
    # the calls to the store's numbers, on their own tab, shown as calls
    calls = text(client.get("/cabinet/replies", query_string={"calls": "1"}))
    assert "+375291117777" in calls and "звонок" in calls and "[CALL]" not in calls
    assert "+375291112233" not in calls and "&lt;script&gt;" not in calls
    # another store sees none of them
    other = make_tenant(rt, "other-shop", "BY")
    add_user(rt, other["id"], "+375297654321", "viewer")
    other_client = client.application.test_client()
    sign_in(other_client, "+375297654321")
    assert "+375291112233" not in text(other_client.get("/cabinet/replies"))


def test_explain_gives_the_decision_of_the_policy_api(rt, client, traffic):
    viewer(rt, client, traffic)
    for phone, at, api_at in (
        (BLOCKED, "2026-01-15T12:00", "2026-01-15T12:00:00+03:00"),
        ("+375291112299", "2026-01-15T23:30", "2026-01-15T23:30:00+03:00"),
    ):
        api = client.post(
            "/v1/policy/explain",
            headers=traffic["headers"],
            json={"phone": phone, "at": api_at, "category": "marketing", "channel": "sms"},
        ).get_json()
        page = client.get(
            "/cabinet/explain",
            query_string={"phone": phone, "at": at, "category": "marketing", "channel": "sms"},
        )
        body = text(page)
        assert page.status_code == 200, body[-2000:]
        assert api["reasons"], api
        for reason in api["reasons"]:
            assert f"<code>{reason['code']}</code>" in body
        expected = {"send": "будет отправлено сейчас", "defer": "будет отложено",
                    "block": "будет заблокировано"}[api["decision"]]  # fmt: skip
        assert expected in body
    bad = client.get("/cabinet/explain", query_string={"phone": "12345"})
    assert bad.status_code == 400 and 'class="error"' in text(bad)
    bad = client.get("/cabinet/explain", query_string={"phone": PHONE, "at": "tomorrow"})
    assert bad.status_code == 400 and "Укажите дату и время" in text(bad)
    empty = client.get("/cabinet/explain")
    assert empty.status_code == 200 and "Решение для" not in text(empty)


def test_settings_rules_contacts_keys_gateways_and_audit(rt, client, tenant):
    from relay.storage.models import Tenant

    add_user(rt, tenant["id"], PHONE, "owner")
    sign_in(client, PHONE)
    page = text(client.get("/cabinet/settings"))
    assert "sandbox" in page and "API-ключи" in page and "Уведомления" in page
    ok = post(client, "/cabinet/settings/store", {
        "timezone": "Asia/Almaty", "quiet_start": "22:00", "quiet_end": "08:00",
        "frequency_cap": "3", "optout_footer": "Отписаться: СТОП"})  # fmt: skip
    assert ok.status_code == 302
    assert "Правила магазина сохранены." in text(client.get("/cabinet/settings"))
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        assert t.timezone == "Asia/Almaty" and t.settings["frequency_cap"] == 3
        assert t.settings["optout_footer"] == "Отписаться: СТОП"
    for form, words in (
        ({"timezone": "Mars/Olympus"}, "Укажите часовой пояс"),
        ({"frequency_cap": "-1"}, "Укажите целое число от 0 до 1000."),
        ({"optout_footer": "Скидки!"}, "Подпись должна говорить, как отписаться"),
    ):
        bad = post(client, "/cabinet/settings/store",
                   {"quiet_start": "22:00", "quiet_end": "08:00", **form})  # fmt: skip
        assert bad.status_code == 422 and words in text(bad), form
    good = post(
        client,
        "/cabinet/settings/notifications",
        {"phones": "+375 29 111-22-33", "emails": "shop@example.by, boss@example.by"},
    )
    assert good.status_code == 302
    with rt.session() as s:
        contacts = s.get(Tenant, tenant["id"]).settings["notification_contacts"]
        assert contacts == {"phones": ["+375291112233"],
                            "emails": ["shop@example.by", "boss@example.by"]}  # fmt: skip
    bad = post(client, "/cabinet/settings/notifications", {"phones": "", "emails": "nobody"})
    assert bad.status_code == 422 and "Один из адресов e-mail неверен." in text(bad)
    # a key: shown once, then only its prefix; revoked
    made = post(client, "/cabinet/settings/keys", {"name": "CRM", "scopes": "messages:read"})
    assert made.status_code == 302
    shown = text(client.get("/cabinet/settings"))
    key = re.search(r'id="new-key">(rk_[^<]+)<', shown).group(1)
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/reports/stats", headers=auth).status_code == 200
    assert key not in text(client.get("/cabinet/settings"))  # shown only once
    assert "/revoke" in text(client.get("/cabinet/settings"))
    with rt.session() as s:
        from relay.tenancy.tenant_admin import keys_of

        crm = next(k for k in keys_of(s, tenant["id"]) if k["name"] == "CRM")
    assert post(client, f"/cabinet/settings/keys/{crm['id']}/revoke").status_code == 302
    import relay.tenancy.tenants as tenants_mod

    tenants_mod.forget_cached_keys()
    assert client.get("/v1/reports/stats", headers=auth).status_code == 401
    assert post(client, "/cabinet/settings/keys/nope/revoke").status_code == 404
    assert post(client, "/cabinet/settings/keys", {"name": "x"}).status_code == 422
    audit = client.get("/cabinet/settings/audit")
    body = text(audit)
    assert audit.status_code == 200 and "key.create" in body and "key.revoke" in body
    assert "settings.update" in body


def test_a_viewer_cannot_create_keys_and_sees_no_forms(rt, client, tenant):
    add_user(rt, tenant["id"], PHONE, "viewer")
    sign_in(client, PHONE)
    page = text(client.get("/cabinet/settings"))
    assert 'name="scopes"' not in page and 'name="emails"' not in page
    assert post(client, "/cabinet/settings/keys", {"scopes": "admin"}).status_code == 403
    assert post(client, "/cabinet/settings/notifications", {"emails": "a@b.by"}).status_code == 403
    assert client.get("/cabinet/settings/audit").status_code == 403


def test_every_section_has_a_plain_short_title(rt, client, tenant):
    # a page whose title block swallowed its content once rendered a whole form into <title>
    from relay.cabinet.sections import SECTIONS

    add_user(rt, tenant["id"], "+375297770011", "owner")
    sign_in(client, "+375297770011")
    for section in SECTIONS:
        page = client.get(f"/cabinet{section.path}").get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", page, re.S)
        assert title and "<" not in title.group(1) and len(title.group(1)) < 120, section.path
