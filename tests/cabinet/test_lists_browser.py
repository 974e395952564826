"""The address books and the stop-list in a real browser at 375 pixels: upload a book from an
xlsx made here, read the per-row report, search a Cyrillic name, add a number to the
stop-list. Every page is checked with axe-core and for overflow (the Visitor helper)."""

from __future__ import annotations

import openpyxl
import pytest

from relay.people import users
from tests.cabinet.browser_support import browser, live, visitor  # noqa: F401  (fixtures)
from tests.support.factories import make_tenant

pytestmark = pytest.mark.browser
PHONE = "+375291111111"


def test_upload_a_book_search_it_and_stop_a_number(browser, live, tmp_path):  # noqa: F811
    t = make_tenant(live.rt, "Цветы у дома", "BY")
    with live.rt.session() as s:
        users.create_user(s, t["id"], PHONE, "Ольга", "owner", "password1", live.rt.now())
        s.commit()
    book = tmp_path / "клиенты.xlsx"
    wb = openpyxl.Workbook()
    for row in (["Телефон", "Имя"], ["+375291234567", "Ёлкина Анна"], ["12345", "Плохой"],
                ["+375297777777", "Борис <b>Жирный</b>"]):  # fmt: skip
        wb.active.append(row)
    wb.save(book)

    v = visitor(browser, live, "books")
    v.goto("/cabinet/signin", "sign-in")
    v.fill("Номер мобильного телефона", PHONE)
    v.fill("Пароль", "password1")
    v.submit("home", "Войти")
    v.goto("/cabinet/books", "address books")
    assert "Адресных книг пока нет." in v.text()
    v.page.get_by_label("Название новой книги").fill("Постоянные клиенты")
    v.page.get_by_label("Файл (xlsx или csv)").set_input_files(str(book))
    v.submit("import report", "Загрузить")
    body = v.text()
    assert "Импорт закончен: принято строк — 2, отклонено — 1." in body
    assert "12345" in body and "не номер телефона" in body
    v.page.get_by_role("link", name="Открыть адресную книгу").click()
    v.check("the book")
    assert "Контактов: 2." in v.text() and "Борис <b>Жирный</b>" in v.text()  # as text
    v.fill("Поиск по имени или номеру", "ёлкина")
    v.submit("search", "Найти")
    rows = v.page.locator("table tbody tr")
    assert rows.count() == 1 and "Ёлкина Анна" in rows.first.inner_text()

    v.goto("/cabinet/stoplists", "stop-lists")
    v.fill("Номера", "+375 29 123-45-67")
    v.page.get_by_label("Канал", exact=True).select_option("sms")
    v.submit("number stopped", "Добавить в стоп-лист")
    assert "Номеров добавлено в стоп-лист: 1." in v.text()
    assert "+375291234567" in v.page.locator("table").inner_text()
    assert v.dialogs == []


def test_content_pages_live_preview_and_sender_rules(browser, live):  # noqa: F811
    t = make_tenant(live.rt, "Цветы у дома", "BY")
    with live.rt.session() as s:
        users.create_user(s, t["id"], PHONE, "Ольга", "owner", "password1", live.rt.now())
        s.commit()
    v = visitor(browser, live, "content")
    v.goto("/cabinet/signin", "sign-in")
    v.fill("Номер мобильного телефона", PHONE)
    v.fill("Пароль", "password1")
    v.submit("home", "Войти")

    v.goto("/cabinet/templates", "templates")
    v.fill("Название шаблона", "ready_note")
    v.fill("Текст SMS", "Заказ готов <b>сегодня</b>")
    v.submit("template saved", "Сохранить шаблон")
    assert "Шаблон сохранён." in v.text() and "Заказ готов <b>сегодня</b>" in v.text()
    # the preview follows the text as it is typed (lists.js), nothing saved
    v.fill("Текст SMS", "{{ customer.name }}, заказ уже в пути")
    preview = v.page.locator("#template-preview")
    preview.get_by_text("заказ уже в пути").wait_for(timeout=5000)
    assert "Версия 1" in v.text()
    v.submit("new version", "Сохранить")
    assert "Версия 2 сохранена." in v.text()
    v.page.get_by_role("link", name="Удалить шаблон…").click()
    v.check("delete the template?")
    v.submit("template deleted", "Удалить навсегда")
    assert "Шаблон удалён." in v.text() and "ready_note" not in v.page.locator("main").inner_text()

    v.goto("/cabinet/senders", "sender names")
    v.page.get_by_label("Канал", exact=True).select_option("sms")
    v.fill("Имя", "Цветы")
    check = v.page.locator("[data-sender-check]")
    assert "11 латинских" in check.inner_text()
    v.fill("Имя", "CVETY.BY")
    assert check.inner_text() == "Имя подходит под правила."
    v.page.get_by_label("Канал", exact=True).select_option("viber")
    v.fill("Имя", "Цветы у дома")
    assert check.inner_text() == "Имя подходит под правила."
    v.submit("sender requested", "Запросить имя")
    assert "Имя запрошено." in v.text() and "запрошено" in v.page.locator("table").inner_text()

    v.goto("/cabinet/flows", "flows")
    v.page.locator("main form button").first.click()
    v.page.wait_for_load_state("load")
    v.check("flow switched")
    assert "выключен." in v.text()
    v.goto("/cabinet/consent?phone=%2B375291234567", "consent")
    assert "не спрашивали: согласия нет" in v.text()
    assert v.dialogs == []
