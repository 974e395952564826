"""The insight pages in Chromium at 375 pixels, checked with axe-core on every page: find a
blocked message in Detail and read its reason, open Statistics (charts drawn from the
embedded numbers, tables still there), Replies with a hostile text shown as text, Explain."""

from __future__ import annotations

import pytest

from relay import create_app
from relay.compliance.stoplist import add_stop
from relay.people import users
from tests.cabinet.browser_support import browser, live, visitor  # noqa: F401  (fixtures)
from tests.support.factories import make_tenant, order_event, run_worker

pytestmark = pytest.mark.browser
PHONE = "+375297777777"
BLOCKED = "+375296667788"
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def store_with_traffic(rt):
    t = make_tenant(rt, "Магазин Ольги", "BY")
    with rt.session() as s:
        users.create_user(s, t["id"], PHONE, "Ольга", "viewer", "password1", rt.now())
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
    v.fill("Номер мобильного телефона", PHONE)
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
    page.get_by_label("Номер мобильного телефона", exact=True).fill(PHONE)
    page.get_by_label("Пароль", exact=True).fill("password1")
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    page.goto(live.url + "/cabinet/statistics?from=2026-01-01&to=2026-01-31")
    assert page.locator("figure[data-chart]").first.is_hidden()
    assert page.locator("table").count() >= 5
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375
    context.close()
