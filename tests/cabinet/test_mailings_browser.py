"""The mailing pages in Chromium at 375 pixels, with axe-core on every page: a paced mailing
to an address book, checked with a dry run, started, and watched while a worker sends it."""

from __future__ import annotations

import pytest

from relay.people import users
from tests.cabinet.browser_support import browser, live, visitor  # noqa: F401  (fixtures)
from tests.relay.api.test_campaigns_fixtures import consent, make_book, phone, stop
from tests.support.factories import make_tenant, run_worker

pytestmark = pytest.mark.browser

OWNER = "+375291234567"


def test_a_paced_mailing_to_a_book_with_a_dry_run_started_and_watched(browser, live):  # noqa: F811
    rt = live.rt
    t = make_tenant(rt, "Цветы у дома", "BY")
    with rt.session() as s:
        users.create_user(s, t["id"], OWNER, "Ольга", "owner", "password1", rt.now())
        s.commit()
    make_book(rt, t["id"], 5, name="Постоянные клиенты")
    consent(rt, t["id"], [phone(i) for i in range(4)])
    stop(rt, t["id"], phone(3))

    v = visitor(browser, live, "mailing")
    v.goto("/cabinet/signin", "sign-in page")
    v.fill("Номер мобильного телефона", OWNER)
    v.fill("Пароль", "password1")
    v.submit("signed in", "Войти")

    v.goto("/cabinet/mailings/new", "new mailing")
    # with the script, only the fields of the chosen recipients and channel show
    assert not v.page.get_by_label("Номера, по одному в строке").is_visible()
    v.fill("Название рассылки", "Весенняя распродажа")
    v.page.get_by_label("Адресная книга", exact=True).select_option(label="Постоянные клиенты")
    # the text says who advertises (the store), as advertising must
    v.fill("Текст сообщения", "{{ contact.name }}, весной скидка 10% на всё в «Цветы у дома»!")
    # live counts from the cabinet's JSON while typing
    v.page.wait_for_function(
        "document.getElementById('live-counts').textContent.includes('SMS')", timeout=10_000
    )
    assert "знаков" in v.page.locator("#live-counts").inner_text()
    v.fill("Сообщений (N)", "2")
    v.fill("Каждые M минут", "10")
    v.submit("dry run", "Сохранить и проверить")
    body = v.text()
    assert "Рассылка сохранена как черновик." in body and "Пробный запуск" in body
    dry = v.page.locator("#dry-run").inner_text()
    assert "5\nполучателей" in dry and "3\nбудет отправлено" in dry
    assert "нет согласия на рекламу: 1" in dry and "в стоп-листе: 1" in dry

    v.submit("started", "Запустить")
    assert "Рассылка запущена." in v.text()
    assert v.page.locator("#progress [data-field=planned]").inner_text() == "5"
    assert v.page.locator("#progress [data-field=sent]").inner_text() == "0"
    run_worker(rt)  # the first 2 go now; the third waits 10 minutes (smooth sending)
    # the page's script refreshes the progress while the mailing sends
    v.page.wait_for_function(
        "document.querySelector('#progress [data-field=sent]').textContent === '2'",
        timeout=15_000,
    )
    v.check("progress after the worker")
    assert v.page.locator("#progress .meter").get_attribute("aria-label").endswith("40%")

    v.goto("/cabinet/mailings", "my mailings")
    assert "Весенняя распродажа" in v.text() and "отправляется" in v.text()
    v.page.get_by_role("link", name="Весенняя распродажа").click()
    v.check("the mailing again")
    v.submit("paused", "Приостановить")
    assert "Рассылка приостановлена." in v.text()
    assert v.dialogs == []
