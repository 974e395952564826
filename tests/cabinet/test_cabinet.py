"""The cabinet through HTTP (Flask's test client): the code flows, sessions, CSRF, roles,
tenant isolation, error pages, languages and the home page's figures."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from relay.logs import JsonFormatter
from relay.people.users import users_of
from relay.storage.models import AuditEntry, Flow, Tenant, User
from tests.cabinet.helpers import add_user, csrf, post, sign_in, text
from tests.cabinet.people_support import code_sent_to, sends_to
from tests.support.factories import make_tenant, order_event, run_worker

PHONE = "+375291234567"


@pytest.fixture
def open_signup(rt):
    rt.config["SIGNUP"] = "open"


def signup(client, rt, phone=PHONE, store="Цветы у дома", password="password1"):
    resp = post(client, "/cabinet/signup", {"region": "BY", "phone": phone})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cabinet/signup/verify")
    code = code_sent_to(rt, phone)
    return post(
        client,
        "/cabinet/signup/verify",
        {"code": code, "store": store, "name": "Анна", "password": password},
    ), code


def test_sign_up_with_the_sandbox_code_creates_the_store_and_signs_in(rt, client, open_signup):
    resp, _code = signup(client, rt, store="<script>alert('x')</script>")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cabinet/")
    home = client.get("/cabinet/")
    body = text(home)
    assert home.status_code == 200 and '<html lang="ru"' in body
    assert "Добро пожаловать! Ваш магазин создан." in body and "Главная" in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body  # the name, escaped
    assert "<script>alert(" not in body
    with rt.session() as s:
        tenant = s.scalar(select(Tenant).where(Tenant.name == "<script>alert('x')</script>"))
        assert (tenant.region, tenant.timezone) == ("BY", "Europe/Minsk")
        assert s.scalar(select(Flow).where(Flow.tenant_id == tenant.id)) is not None
        [owner] = users_of(s, tenant.id)
        assert (owner.phone, owner.role, owner.name) == (PHONE, "owner", "Анна")
    # sign out, then sign in with the password
    resp = post(client, "/cabinet/signout")
    assert resp.status_code == 302 and client.get("/cabinet/").status_code == 302
    sign_in(client, "+375 29 123-45-67")
    assert client.get("/cabinet/").status_code == 200


def test_nothing_secret_reaches_the_logs(rt, client, open_signup, caplog):
    caplog.set_level(logging.DEBUG)
    _resp, code = signup(client, rt, password="s3cret-horse")
    post(client, "/cabinet/signout")
    post(client, "/cabinet/signin", {"phone": PHONE, "password": "wrong-horse"})
    sign_in(client, PHONE, "s3cret-horse")
    records = caplog.records
    raw = [r.getMessage() for r in records]  # before the formatter masks phone numbers
    blob = "\n".join([JsonFormatter().format(r) for r in records] + raw)
    assert caplog.records, "the flow logged nothing at all: the test would prove nothing"
    for secret in (PHONE, PHONE[1:], "291234567", code, "s3cret-horse", "wrong-horse"):
        assert secret not in blob


@pytest.mark.parametrize("mode", ["closed", "invite"])
def test_sign_up_is_refused_unless_open(rt, client, mode):
    rt.config["SIGNUP"] = mode
    page = client.get("/cabinet/signup")
    assert page.status_code == 403 and "<h1>Регистрация</h1>" in text(page)
    resp = client.post("/cabinet/signup", data={"csrf_token": csrf(client), "phone": PHONE})
    assert resp.status_code == 403
    assert sends_to(rt, PHONE) == []


@pytest.mark.parametrize(
    ("phone", "says"),
    [
        ("+7 809 123-45-67", "только мобильные номера России, Беларуси и Казахстана"),
        ("+7 495 123-45-67", "только мобильные номера России, Беларуси и Казахстана"),
        ("12", "Этот номер телефона не подходит"),
    ],
)
def test_premium_fixed_or_bad_numbers_get_no_code(rt, client, open_signup, phone, says):
    resp = post(client, "/cabinet/signup", {"region": "RU", "phone": phone})
    assert resp.status_code == 422 and says in text(resp)
    assert 'aria-invalid="true"' in text(resp)
    run_worker(rt)
    assert rt.redis.llen("relay:sandbox:sent") == 0


def test_three_wrong_codes_make_the_number_wait(rt, client, open_signup):
    post(client, "/cabinet/signup", {"region": "BY", "phone": PHONE})
    code = code_sent_to(rt, PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    form = {"code": wrong, "store": "Shop", "name": "Анна", "password": "password1"}
    first = post(client, "/cabinet/signup/verify", form)
    assert first.status_code == 422 and "Неверный код. Осталось попыток: 2." in text(first)
    post(client, "/cabinet/signup/verify", form)
    third = post(client, "/cabinet/signup/verify", form)
    assert third.status_code == 429 and "Подождите 15 мин." in text(third)
    right = post(client, "/cabinet/signup/verify", {**form, "code": code})
    assert right.status_code == 429  # the right code is dead too
    again = post(client, "/cabinet/signup/resend", follow_redirects=True)
    assert "Три раза введён неверный код." in text(again)
    assert len(sends_to(rt, PHONE)) == 1  # no second code was sent
    with rt.session() as s:
        assert s.scalar(select(Tenant).where(Tenant.name == "Shop")) is None


def test_a_form_without_its_csrf_token_gets_the_400_page(rt, client, tenant):
    add_user(rt, tenant["id"], PHONE, "owner")
    missing = client.post("/cabinet/signin", data={"phone": PHONE, "password": "password1"})
    assert missing.status_code == 400 and missing.mimetype == "text/html"
    assert "Форма отправлена не с этой страницы" in text(missing)
    csrf(client)
    forged = client.post(
        "/cabinet/signin", data={"phone": PHONE, "password": "password1", "csrf_token": "x" * 43}
    )
    assert forged.status_code == 400
    assert client.get("/cabinet/").status_code == 302  # not signed in


@pytest.mark.parametrize(("idle", "total"), [(61, None), (None, 12 * 60 + 1)])
def test_an_expired_session_leads_to_the_sign_in_page_with_a_message(rt, client, tenant, clock,
                                                                      idle, total):  # fmt: skip
    add_user(rt, tenant["id"], PHONE, "owner")
    sign_in(client, PHONE)
    if idle:
        clock.advance(minutes=idle)
    else:  # active all along, yet past the absolute limit
        for _ in range(total // 50):
            clock.advance(minutes=50)
            assert client.get("/cabinet/").status_code == 200
        clock.advance(minutes=total % 50 + 1)
    resp = client.get("/cabinet/settings")
    assert resp.status_code == 302 and "/cabinet/signin" in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    assert "Сеанс истёк. Войдите снова." in text(page)
    # a form sent from a page left open gets there too, not to a 400 page
    sign_in(client, PHONE)
    token = csrf(client, "/cabinet/settings")
    clock.advance(minutes=idle or total + 1)
    form = {"csrf_token": token, "quiet_start": "20:00", "quiet_end": "08:00"}
    late = client.post("/cabinet/settings/store", data=form)
    assert late.status_code == 302 and "/cabinet/signin" in late.headers["Location"]


def test_a_viewer_gets_the_403_page_for_a_manager_action(rt, client, tenant):
    add_user(rt, tenant["id"], PHONE, "viewer")
    sign_in(client, PHONE)
    settings = client.get("/cabinet/settings")
    assert "Изменить их могут менеджеры и владельцы." in text(settings)
    assert 'name="quiet_start"' not in text(settings)
    resp = post(client, "/cabinet/settings/store", {"quiet_start": "21:00", "quiet_end": "09:00"})
    assert resp.status_code == 403 and "Это действие вам недоступно" in text(resp)
    with rt.session() as s:
        assert (s.get(Tenant, tenant["id"]).settings or {}).get("quiet_hours") is None


def test_a_manager_changes_the_quiet_hours_with_an_audit_entry(rt, client, tenant):
    uid = add_user(rt, tenant["id"], PHONE, "manager")
    sign_in(client, PHONE)
    resp = post(client, "/cabinet/settings/store", {"quiet_start": "21:30", "quiet_end": "08:00"})
    assert resp.status_code == 302
    assert "Тихие часы сохранены." in text(client.get("/cabinet/settings"))
    bad = post(client, "/cabinet/settings/store", {"quiet_start": "08:00", "quiet_end": "08:00"})
    assert bad.status_code == 422 and "Эти настройки нельзя применить" in text(bad)
    with rt.session() as s:
        stored = s.get(Tenant, tenant["id"]).settings["quiet_hours"]
        assert stored == {"start": "21:30", "end": "08:00"}
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update"))
        assert entry.actor == f"user:{uid}" and entry.after["quiet_hours"]["start"] == "21:30"


def test_another_tenants_ids_are_404_pages(rt, client, tenant):
    other = make_tenant(rt, "other-shop", "RU")
    stranger = add_user(rt, other["id"], "+79161234567", "owner")
    add_user(rt, tenant["id"], PHONE, "owner")
    sign_in(client, PHONE)
    for resp in (
        client.get(f"/cabinet/team/{stranger}"),
        post(client, f"/cabinet/team/{stranger}/role", {"role": "viewer"}),
        post(client, "/cabinet/team/invitations/999999/revoke"),
        client.get("/cabinet/no-such-page"),
    ):
        assert resp.status_code == 404 and resp.mimetype == "text/html"
        assert "Страница не найдена" in text(resp)
    with rt.session() as s:
        assert s.get(User, stranger).role == "owner"
    api = client.get("/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    wrong_method = client.get("/cabinet/signout")
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"


def test_an_unexpected_error_is_a_500_page(rt, client, tenant, monkeypatch):
    from relay.cabinet import views_home

    add_user(rt, tenant["id"], PHONE, "owner")
    sign_in(client, PHONE)

    def boom(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(views_home.overview, "counts", boom)
    resp = client.get("/cabinet/")
    assert resp.status_code == 500 and "Что-то пошло не так" in text(resp)
    assert "Traceback" not in text(resp) and "boom" not in text(resp)


def test_an_invitation_joins_a_viewer_once(rt, client, tenant, app):
    add_user(rt, tenant["id"], PHONE, "owner")
    sign_in(client, PHONE)
    resp = post(client, "/cabinet/team/invitations", {"role": "viewer", "name": "Пётр"})
    assert resp.status_code == 302
    page = text(client.get("/cabinet/settings"))
    link = page.split('id="invite-link">')[1].split("<")[0].strip()
    assert link.startswith("http://localhost/cabinet/invite/")
    assert 'id="invite-link"' not in text(client.get("/cabinet/settings"))  # shown once
    guest = app.test_client()
    path = link.removeprefix("http://localhost")
    assert "Присоединиться к «shop-by»" in text(guest.get(path))
    viewer = "+375297654321"
    resp = post(guest, path, {"region": "BY", "phone": viewer})
    assert resp.status_code == 302
    code = code_sent_to(rt, viewer)
    resp = post(guest, path + "/verify", {"code": code, "name": "Пётр", "password": "password2"})
    assert resp.status_code == 302
    assert "Добро пожаловать в «shop-by»!" in text(guest.get("/cabinet/"))
    with rt.session() as s:
        roles = {u.phone: u.role for u in users_of(s, tenant["id"])}
    assert roles == {PHONE: "owner", viewer: "viewer"}
    again = app.test_client().get(path)
    assert again.status_code == 404 and "больше не действует" in text(again)


def test_password_reset_by_code_ends_other_sessions(rt, client, tenant, app):
    add_user(rt, tenant["id"], PHONE, "owner")
    other_device = app.test_client()
    sign_in(other_device, PHONE)
    resp = post(client, "/cabinet/reset", {"region": "BY", "phone": PHONE})
    assert resp.status_code == 302
    code = code_sent_to(rt, PHONE)
    resp = post(client, "/cabinet/reset/verify", {"code": code, "password": "new-password"})
    assert resp.status_code == 302
    assert client.get("/cabinet/").status_code == 200
    ended = other_device.get("/cabinet/")
    assert ended.status_code == 302
    told = text(other_device.get(ended.headers["Location"]))
    assert "Вы вышли из кабинета. Войдите снова." in told
    post(client, "/cabinet/signout")
    sign_in(client, PHONE, "new-password")


def test_reset_for_a_number_without_an_account_answers_the_same_and_sends_nothing(rt, client):
    resp = post(client, "/cabinet/reset", {"region": "BY", "phone": PHONE})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cabinet/reset/verify")
    run_worker(rt)
    assert sends_to(rt, PHONE) == []


def test_sign_out_everywhere(rt, client, tenant, app):
    add_user(rt, tenant["id"], PHONE, "owner")
    other_device = app.test_client()
    sign_in(other_device, PHONE)
    sign_in(client, PHONE)
    post(client, "/cabinet/signout-everywhere")
    assert client.get("/cabinet/").status_code == 302
    assert other_device.get("/cabinet/").status_code == 302


def test_the_language_is_the_users_choice(rt, client, tenant):
    from relay import create_app

    add_user(rt, tenant["id"], PHONE, "owner")
    assert '<html lang="ru"' in text(client.get("/cabinet/signin"))
    post(client, "/cabinet/language", {"locale": "en", "next": "/cabinet/signin"})
    assert "Sign in to the cabinet" in text(client.get("/cabinet/signin"))
    sign_in(client, PHONE)
    assert "<h1>Home</h1>" in text(client.get("/cabinet/"))  # the choice made before signing in
    post(client, "/cabinet/language", {"locale": "ru"})
    assert "<h1>Главная</h1>" in text(client.get("/cabinet/"))
    post(client, "/cabinet/language", {"locale": "en"})
    other = create_app(runtime=rt).test_client()  # another browser: the user's choice holds
    sign_in(other, PHONE)
    assert "<h1>Home</h1>" in text(other.get("/cabinet/"))
    with rt.session() as s:
        assert s.scalar(select(User.locale).where(User.phone == PHONE)) == "en"


def test_wrong_passwords_are_limited(rt, client, tenant):
    add_user(rt, tenant["id"], PHONE, "owner")
    rt.config["SIGNIN_RATES"] = {"phone": ("3 per 15 minutes",)}
    for _ in range(3):
        resp = post(client, "/cabinet/signin", {"phone": PHONE, "password": "nope-nope"})
        assert resp.status_code == 422 and "Неверный номер телефона или пароль." in text(resp)
    resp = post(client, "/cabinet/signin", {"phone": PHONE, "password": "password1"})
    assert resp.status_code == 429 and "Слишком много попыток входа" in text(resp)


def test_sso_link_from_the_api_opens_the_cabinet_once(rt, client, tenant, app):
    resp = client.post(
        "/v1/cabinet/links", json={"platform": "bitrix24"}, headers=tenant["headers"]
    )
    assert resp.status_code == 201, resp.get_json()
    link = resp.get_json()
    assert link["expires_in"] == 120
    path = link["url"].removeprefix("http://relay.test")
    opened = client.get(path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/cabinet/")
    home = text(client.get("/cabinet/"))
    assert "shop-by" in home and "Bitrix24" in home
    again = app.test_client().get(path)
    assert again.status_code == 400 and "уже использована" in text(again)
    bad = client.post("/v1/cabinet/links", json={"platform": "vk"}, headers=tenant["headers"])
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_error"
    assert "platform" in bad.get_json()["error"]["fields"]
    from relay.tenancy.tenants import create_key

    with rt.session() as s:
        _row, key = create_key(s, s.get(Tenant, tenant["id"]), ["messages:read"])
        s.commit()
    weak = client.post(
        "/v1/cabinet/links", json={"platform": "amocrm"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert weak.status_code == 403 and weak.get_json()["error"]["code"] == "insufficient_scope"


def test_the_home_page_shows_the_numbers_of_the_reports_api(rt, client, tenant, clock):
    from relay.compliance.stoplist import add_stop

    with rt.session() as s:
        add_stop(s, tenant["id"], "+375296667788", "admin", rt.now())
        s.commit()
    for i, phone in enumerate(("+375291112233", "+375296667788", "+375291112200")):
        ev = order_event(f"o-{i}", phone, "processing", "2026-01-15T11:00:00+00:00")
        assert client.post("/v1/events", json=ev, headers=tenant["headers"]).status_code == 202
    run_worker(rt)
    clock.advance(minutes=1)
    stats = client.get("/v1/reports/stats", headers=tenant["headers"]).get_json()["totals"]
    by = stats["by_status"]
    assert by == {"delivered": 1, "blocked": 1, "undelivered": 1}
    add_user(rt, tenant["id"], PHONE, "viewer")
    sign_in(client, PHONE)
    page = text(client.get("/cabinet/"))
    today = page.split("<h2>Сегодня</h2>")[1].split("</ul>")[0]
    figures = dict(
        (label, int(n))
        for n, label in __import__("re").findall(
            r'class="figure">(\d+)</span> <span class="label">([^<]+)<', today
        )
    )
    assert figures == {
        "отправлено": 2, "доставлено": 1, "прочитано": 0, "не доставлено": 1, "заблокировано": 1,
    }  # fmt: skip
    assert "sandbox" in page and "работает" in page


def test_every_section_has_a_page(rt, client, tenant):
    from relay.cabinet.sections import SECTIONS

    add_user(rt, tenant["id"], PHONE, "viewer")
    sign_in(client, PHONE)
    for section in SECTIONS:
        resp = client.get("/cabinet" + section.path)
        assert resp.status_code == 200, section.path
        assert 'aria-current="page"' in text(resp)


def test_cookies_are_httponly_lax_and_secure_on_https(rt, tenant):
    from relay import create_app

    add_user(rt, tenant["id"], PHONE, "owner")
    rt.config["PUBLIC_URL"] = "https://relay.example"
    client = create_app(runtime=rt).test_client()
    resp = post(client, "/cabinet/signin", {"phone": PHONE, "password": "password1"})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/cabinet" in cookie
    rt.config["PUBLIC_URL"] = "http://relay.test"


def test_a_session_cookie_alone_does_not_outlive_a_role_change(rt, client, tenant, app):
    owner = add_user(rt, tenant["id"], "+375297777777", "owner")
    assert owner
    member = add_user(rt, tenant["id"], PHONE, "manager")
    sign_in(client, PHONE)
    boss = app.test_client()
    sign_in(boss, "+375297777777")
    assert post(boss, f"/cabinet/team/{member}/role", {"role": "viewer"}).status_code == 302
    assert client.get("/cabinet/").status_code == 302  # the member signs in again, as a viewer


def test_codes_expire_after_ten_minutes(rt, client, open_signup, clock):
    post(client, "/cabinet/signup", {"region": "BY", "phone": PHONE})
    code = code_sent_to(rt, PHONE)
    clock.advance(minutes=10, seconds=1)
    form = {"code": code, "store": "Shop", "name": "Анна", "password": "password1"}
    resp = post(client, "/cabinet/signup/verify", form)
    assert resp.status_code == 422 and "Срок действия кода истёк" in text(resp)


JUNK = {
    "phone": "+7 (000) ' OR 1=1 --",
    "password": "x" * 5000,
    "code": "12345678901234567890",
    "store": "",
    "name": "\x00\u202e<b>",
    "region": "ZZ",
    "role": "admin",
    "locale": "xx",
    "quiet_start": "25:61",
    "quiet_end": "",
    "next": "//evil.example/",
}


@pytest.mark.parametrize("who", [None, "viewer", "owner"])
def test_no_cabinet_url_answers_junk_with_a_500(rt, app, tenant, who):
    rt.config["SIGNUP"] = "open"
    client = app.test_client()
    if who:
        add_user(rt, tenant["id"], PHONE, who)
        sign_in(client, PHONE)
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/cabinet") or "static" in rule.endpoint:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "nope").replace(f"<int:{arg}>", "12345")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                resp = client.get(path, query_string={"token": "junk", "next": "//evil"})
            else:
                resp = client.post(path, data={"csrf_token": csrf(client), **JUNK})
            seen += 1
            assert resp.status_code < 500, (method, path, resp.status_code)
            # the pages' own scripts ask the ….json addresses; everything else is a page
            pages = {"text/html", "application/json"} if path.endswith(".json") else {"text/html"}
            assert resp.mimetype in pages, (method, path)
            if resp.status_code in (301, 302, 303):  # only ever within the cabinet
                where = urlsplit(resp.headers["Location"])
                assert where.netloc in ("", "localhost"), (method, path, where)
                assert where.path.startswith("/cabinet"), (method, path, where)
    assert seen > 30
