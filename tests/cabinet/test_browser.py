"""The cabinet in a real browser (Debian's Chromium through Playwright), at 375 pixels wide:
sign-up with the code the sandbox received, sign out and in, the home page; an invited viewer
refused a manager action; a form without its CSRF token; an expired session; another store's
id; a script in a name shown as text; three wrong codes. Every page visited is checked with
axe-core and for horizontal overflow, and photographed into artifacts/screenshots/."""

from __future__ import annotations

import pytest

from relay.people import users
from tests.cabinet.browser_support import browser, live, visitor  # noqa: F401  (fixtures)
from tests.cabinet.people_support import code_sent_to
from tests.support.factories import make_tenant

PHONE = "+375291234567"
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'

pytestmark = pytest.mark.browser


def owner_in(rt, tenant_name, phone, password="password1"):
    t = make_tenant(rt, tenant_name, "BY")
    with rt.session() as s:
        user = users.create_user(s, t["id"], phone, "Ольга", "owner", password, rt.now())
        s.commit()
        return t, user.id


def sign_in(v, phone, password="password1"):
    v.goto("/cabinet/signin", "sign-in page")
    v.fill("Номер мобильного телефона", phone)
    v.fill("Пароль", password)
    v.submit("signed in", "Войти")


def test_sign_up_sign_out_sign_in_and_home(browser, live):  # noqa: F811
    v = visitor(browser, live, "signup")
    v.goto("/cabinet/signup", "sign-up phone")
    v.page.get_by_label("Страна").select_option("BY")
    v.fill("Номер мобильного телефона", "29 123-45-67")
    v.submit("sign-up code", "Получить код")
    assert "+375 29 123-45-67" in v.text().replace("\u00a0", " ").replace("\u2011", "-")
    code = code_sent_to(live.rt, PHONE)  # a worker sent it through the sandbox
    v.fill("Код из SMS", code)
    v.fill("Название магазина", HOSTILE)
    v.fill("Ваше имя", "Анна")
    v.fill("Пароль", "correct horse")
    v.submit("home after sign-up", "Создать магазин")
    assert "Добро пожаловать! Ваш магазин создан." in v.text()
    assert v.page.locator("h1").inner_text() == "Главная"
    assert v.page.locator(".site-header .tenant").inner_text() == HOSTILE  # shown as text
    assert v.page.locator("main img, header img").count() == 0 and v.dialogs == []
    # the navigation folds behind "Меню" at this width and opens with it
    assert not v.page.get_by_role("link", name="Статистика").is_visible()
    v.page.get_by_role("button", name="Меню").click()
    assert v.page.get_by_role("link", name="Статистика").is_visible()
    v.page.get_by_role("link", name="Статистика").click()
    v.check("statistics")
    assert v.page.locator("h1").inner_text() == "Статистика"
    v.page.get_by_role("button", name="Выйти").click()
    v.page.wait_for_url("**/cabinet/signin")
    v.check("signed out")
    assert "Вы вышли из кабинета." in v.text()
    sign_in(v, "+375 29 123-45-67", "correct horse")
    assert v.page.locator("h1").inner_text() == "Главная"
    assert "Шлюзы" in v.text() and "работает" in v.text()
    v.page.get_by_role("button", name="English").click()
    v.page.wait_for_load_state("load")
    v.check("home in English")
    assert v.page.locator("h1").inner_text() == "Home"
    v.goto("/cabinet/settings", "settings in English")
    assert "Quiet hours start" in v.text()


def test_an_invited_viewer_gets_the_403_page_for_a_manager_action(browser, live):  # noqa: F811
    _t, _uid = owner_in(live.rt, "Магазин Ольги", "+375297777777")
    owner = visitor(browser, live, "invite-owner")
    sign_in(owner, "+375297777777")
    owner.goto("/cabinet/settings", "settings as owner")
    owner.fill("Для кого (необязательно)", "Пётр")
    owner.page.get_by_label("Роль").select_option("viewer")
    owner.submit("invitation link", "Создать ссылку-приглашение")
    link = owner.page.locator("#invite-link").inner_text().strip()
    assert link.startswith(live.url + "/cabinet/invite/")

    viewer = visitor(browser, live, "invite-viewer")
    viewer.page.goto(link)
    viewer.check("invitation")
    assert "Присоединиться к «Магазин Ольги»" in viewer.text()
    viewer.page.get_by_label("Страна").select_option("BY")
    viewer.fill("Номер мобильного телефона", "+375 29 765-43-21")
    viewer.submit("invitation code", "Получить код")
    viewer.fill("Код из SMS", code_sent_to(live.rt, "+375297654321"))
    viewer.fill("Ваше имя", "Пётр")
    viewer.fill("Пароль", "password2")
    viewer.submit("viewer home", "Присоединиться")
    assert "Добро пожаловать в «Магазин Ольги»!" in viewer.text()
    viewer.goto("/cabinet/settings", "settings as viewer")
    assert "Изменить их могут менеджеры и владельцы." in viewer.text()
    # the form is not offered; sent anyway (with the viewer's own valid token), it is refused
    with viewer.page.expect_navigation():
        viewer.page.evaluate(
            """() => {
                const f = document.createElement("form");
                f.method = "post"; f.action = "/cabinet/settings/store";
                for (const [k, v] of [["quiet_start", "20:00"], ["quiet_end", "09:00"],
                    ["csrf_token", document.querySelector("input[name=csrf_token]").value]]) {
                  const i = document.createElement("input");
                  i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i);
                }
                document.body.appendChild(f); f.submit();
            }"""
        )
    viewer.check("403 for a viewer")
    assert viewer.page.locator("h1").inner_text() == "Это действие вам недоступно"
    assert "Код ошибки 403" in viewer.text()


def test_a_form_without_its_csrf_token_gets_the_400_page(browser, live):  # noqa: F811
    owner_in(live.rt, "shop", PHONE)
    v = visitor(browser, live, "csrf")
    v.goto("/cabinet/signin", "sign-in page")
    v.fill("Номер мобильного телефона", PHONE)
    v.fill("Пароль", "password1")
    v.page.evaluate("document.querySelector('main input[name=csrf_token]').remove()")
    v.submit("400 without csrf", "Войти")
    assert v.page.locator("h1").inner_text() == "Запрос не удалось выполнить"
    assert "Форма отправлена не с этой страницы или устарела." in v.text()


def test_an_expired_session_shows_the_sign_in_page_with_a_message(browser, live, clock):  # noqa: F811
    owner_in(live.rt, "shop", PHONE)
    v = visitor(browser, live, "expired")
    sign_in(v, PHONE)
    clock.advance(minutes=61)
    v.goto("/cabinet/settings", "after an hour idle")
    assert "/cabinet/signin" in v.page.url
    assert "Сеанс истёк. Войдите снова." in v.text()
    v.fill("Номер мобильного телефона", PHONE)
    v.fill("Пароль", "password1")
    v.submit("signed in again", "Войти")
    assert v.page.url.endswith("/cabinet/settings")  # back where the user was going


def test_another_stores_id_is_a_404_page(browser, live):  # noqa: F811
    _other, stranger = owner_in(live.rt, "other", "+79161234567")
    owner_in(live.rt, "shop", PHONE)
    v = visitor(browser, live, "tenant-404")
    sign_in(v, PHONE)
    resp = v.goto(f"/cabinet/team/{stranger}", "another store's user")
    assert resp.status == 404
    assert v.page.locator("h1").inner_text() == "Страница не найдена"
    assert "+79161234567" not in v.text()


def test_three_wrong_codes_make_the_number_wait(browser, live):  # noqa: F811
    v = visitor(browser, live, "wrong-code")
    v.goto("/cabinet/signup", "sign-up phone")
    v.page.get_by_label("Страна").select_option("BY")
    v.fill("Номер мобильного телефона", PHONE)
    v.submit("sign-up code", "Получить код")
    code = code_sent_to(live.rt, PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt, says in ((1, "Осталось попыток: 2."), (2, "Осталось попыток: 1."),
                          (3, "Подождите 15 мин.")):  # fmt: skip
        v.fill("Код из SMS", wrong)
        v.fill("Название магазина", "Shop")
        v.fill("Ваше имя", "Анна")
        v.fill("Пароль", "password1")
        v.submit(f"wrong code {attempt}", "Создать магазин")
        assert says in v.text()
    v.submit("new code refused", "Отправить новый код")
    assert "Три раза введён неверный код." in v.text() and "Подождите" in v.text()


def test_the_home_page_at_desktop_width(browser, live):  # noqa: F811
    owner_in(live.rt, "shop", PHONE)
    v = visitor(browser, live, "desktop", viewport={"width": 1280, "height": 900})
    sign_in(v, PHONE)
    assert v.page.get_by_role("link", name="Новая рассылка").is_visible()  # nav shown
    v.goto("/cabinet/settings", "settings at desktop width")


# ---- pages3: the insight pages (Detail, Statistics, Replies, Explain) ----------------------
# in this module: the `browser` fixture is one Playwright per module that imports it, and two
# cannot run in one session

INSIGHT_PHONE = "+375297777778"
BLOCKED = "+375296667788"


def store_with_traffic(rt):
    from relay import create_app
    from relay.compliance.stoplist import add_stop
    from tests.support.factories import order_event, run_worker

    t = make_tenant(rt, "Магазин Ольги", "BY")
    with rt.session() as s:
        users.create_user(s, t["id"], INSIGHT_PHONE, "Ольга", "viewer", "password1", rt.now())
        add_stop(s, t["id"], BLOCKED, "admin", rt.now())
        s.commit()
    api = create_app(runtime=rt).test_client()
    for i, phone in enumerate(("+375291112233", BLOCKED)):
        ev = order_event(f"o-{i}", phone, "processing", "2026-01-15T11:00:00+00:00")
        assert api.post("/v1/events", json=ev, headers=t["headers"]).status_code == 202
    resp = api.post("/v1/sandbox/inbound", json={"from": "+375291119999", "text": HOSTILE},
                    headers=t["headers"])  # fmt: skip
    assert resp.status_code == 202
    run_worker(rt)
    return t


def test_find_a_blocked_message_read_its_reason_and_open_statistics(browser, live):  # noqa: F811
    store_with_traffic(live.rt)
    v = visitor(browser, live, "insight")
    v.goto("/cabinet/signin", "sign-in page")
    v.fill("Номер мобильного телефона", INSIGHT_PHONE)
    v.fill("Пароль", "password1")
    v.submit("signed in", "Войти")
    v.goto("/cabinet/detail", "detail")
    assert BLOCKED in v.text()
    v.page.get_by_label("Статус").select_option("blocked")
    v.submit("detail, blocked only", "Показать")
    assert BLOCKED in v.text() and "+375291112233" not in v.text()
    with v.page.expect_navigation():
        v.page.locator("main table tbody a").first.click()
    v.check("the blocked message")
    assert v.page.locator("h1").inner_text() == f"Сообщение на {BLOCKED}"
    reason = v.page.locator("#reason").inner_text()
    assert reason.strip() not in ("", "—"), reason
    assert "История статусов" in v.text()

    v.goto("/cabinet/statistics?from=2026-01-01&to=2026-01-31", "statistics")
    v.page.wait_for_function("document.querySelector('figure[data-chart=status]').hidden === false")
    assert v.page.locator("figure[data-chart] canvas").count() >= 5
    assert v.page.locator("caption", has_text="Сообщения по статусам").count() == 1
    assert v.dialogs == []

    v.goto("/cabinet/replies", "replies")
    assert HOSTILE in v.text()  # shown as text, never run
    assert v.page.locator("main img").count() == 0 and v.dialogs == []
    v.page.get_by_role("link", name="Звонки").click()
    v.check("replies, calls")
    assert "Звонков пока не было." in v.text()

    v.goto("/cabinet/explain", "explain")
    v.fill("Телефон", BLOCKED)
    v.submit("explain, stop-listed", "Показать решение")
    assert "будет заблокировано" in v.text()


def test_statistics_without_javascript_shows_the_tables(browser, live):  # noqa: F811
    store_with_traffic(live.rt)
    context = browser.new_context(viewport={"width": 375, "height": 800}, java_script_enabled=False,
                                  locale="ru-RU")  # fmt: skip
    page = context.new_page()
    page.goto(live.url + "/cabinet/signin")
    page.get_by_label("Номер мобильного телефона", exact=True).fill(INSIGHT_PHONE)
    page.get_by_label("Пароль", exact=True).fill("password1")
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    page.goto(live.url + "/cabinet/statistics?from=2026-01-01&to=2026-01-31")
    assert page.locator("figure[data-chart]").first.is_hidden()
    assert page.locator("table").count() >= 5
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375
    context.close()
