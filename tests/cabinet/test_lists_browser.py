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
