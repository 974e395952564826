"""Reading uploads (what a file is, encodings, separators) and writing downloads."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from relay.adapters.tabular import cell_text, detect_kind, estimate_rows, iter_rows
from relay.adapters.tabular_export import csv_chunks, file_chunks, safe_text, write_xlsx
from relay.errors import RelayError
from tests.support.sheets import csv_bytes, xlsx_bytes


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rows(path: Path, name: str | None = None) -> list[list[str]]:
    kind = detect_kind(path, name or path.name)
    return [[cell_text(c) for c in cells] for _n, cells in iter_rows(path, kind)]


def test_real_xlsx_is_read_with_numbers_and_dates_as_text(tmp_path):
    data = xlsx_bytes(
        [["Телефон", "Дата"], [375291234567, datetime(1990, 5, 17)], ["+375 29 1", None]]
    )
    path = _file(tmp_path, "book.xlsx", data)
    assert detect_kind(path, "book.xlsx") == "xlsx"
    assert _rows(path) == [["Телефон", "Дата"], ["375291234567", "1990-05-17"], ["+375 29 1"]]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("book.xlsx", b"phone\n+375291234567\n", "named .xlsx but is not"),
        ("book.xlsx", b"PK\x03\x04garbage-not-a-zip" * 10, "damaged"),
        ("book.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003"),
        ("book.csv", b"", "empty"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\0" * 50, "neither"),
    ],
)
def test_files_that_are_not_what_they_claim_are_invalid_file(tmp_path, name, data, says):
    path = _file(tmp_path, name, data)
    with pytest.raises(RelayError) as err:
        detect_kind(path, name)
    assert (err.value.code, err.value.status) == ("invalid_file", 422)
    assert says in err.value.message


def test_a_zip_that_is_not_a_workbook_is_invalid_file(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("readme.txt", "hello")
    path = _file(tmp_path, "book.xlsx", buf.getvalue())
    with pytest.raises(RelayError, match="zip archive, not an Excel workbook"):
        detect_kind(path, "book.xlsx")


def test_russian_excel_csv_in_cp1251_with_semicolons(tmp_path):
    rows = [["Телефон", "ФИО", "Комментарий"], ["8 029 123-45-67", "Иванов, Иван", "постоянный"]]
    path = _file(tmp_path, "book.csv", csv_bytes(rows, encoding="cp1251", delimiter=";"))
    assert _rows(path) == rows


def test_bytes_neither_utf8_nor_cp1251_are_an_invalid_file_not_a_500(tmp_path):
    # 0x98 has no letter in cp1251 (found by .ci/schemathesis.py on POST /v1/consents/import)
    path = _file(tmp_path, "book.csv", b"phone\n\x98\x98\xff\n")
    with pytest.raises(RelayError) as caught:
        _rows(path)
    assert caught.value.code == "invalid_file" and caught.value.status == 422


def test_utf8_with_bom_and_commas(tmp_path):
    rows = [["phone", "name"], ["+375291234567", "Ёлка"], ["+375297654321", 'He said "hi"']]
    path = _file(tmp_path, "book.csv", csv_bytes(rows, bom=True))
    assert _rows(path) == rows


def test_one_column_csv_without_separator(tmp_path):
    path = _file(tmp_path, "stop.csv", b"+375291234567\n+375297654321\n")
    assert _rows(path) == [["+375291234567"], ["+375297654321"]]


def test_late_non_utf8_byte_switches_the_whole_file_to_cp1251(tmp_path):
    # the first 64 KB are ASCII, the Cyrillic name is far down: decided before reading rows
    lines = (
        [b"phone;name"]
        + [b"+37529%07d;x" % i for i in range(5000)]
        + ["+375291234567;Олег".encode("cp1251")]
    )
    path = _file(tmp_path, "book.csv", b"\r\n".join(lines) + b"\r\n")
    assert _rows(path)[-1] == ["+375291234567", "Олег"]


def test_estimate_rows_for_csv_and_for_write_only_xlsx_without_dimension(tmp_path):
    csv_path = _file(tmp_path, "a.csv", b"phone\n1\n2\n3")  # no newline at the end
    assert estimate_rows(csv_path, "csv") == 4
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    for i in range(1234):
        sheet.append([i, "x"])
    book.save(tmp_path / "w.xlsx")
    assert estimate_rows(tmp_path / "w.xlsx", "xlsx") == 1234


def test_damage_deep_inside_an_xlsx_is_invalid_file_while_reading(tmp_path):
    data = xlsx_bytes([["phone"]] + [[f"+37529{2000000 + i}"] for i in range(50)])
    src = io.BytesIO(data)
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body[: len(body) // 2]  # cut mid-sheet: rows start fine, then break
            zout.writestr(item, body)
    path = _file(tmp_path, "cut.xlsx", out.getvalue())
    with pytest.raises(RelayError) as err:
        list(iter_rows(path, detect_kind(path, "cut.xlsx")))
    assert err.value.code == "invalid_file"


def test_csv_export_has_bom_and_neutralises_formulas_but_not_phones():
    body = b"".join(
        csv_chunks(["phone", "name"], [["+375291234567", '=HYPERLINK("x")'], ["-1", "@SUM(A1)"]])
    ).decode("utf-8")
    assert body.startswith("\ufeffphone,name\r\n")
    assert '+375291234567,"\'=HYPERLINK(""x"")"' in body
    assert "-1,'@SUM(A1)" in body
    assert safe_text("+375 (29) 123-45-67") == "+375 (29) 123-45-67"


def test_xlsx_export_streams_a_real_workbook_with_text_never_a_formula(tmp_path):
    rows = ([i, f"=cmd|' /C calc'!A{i}", datetime(2026, 1, 1, 12, 0)] for i in range(3))
    fh = write_xlsx([("s1", ["n", "text", "at"], rows), ("s2", ["x"], [[1]])])
    data = b"".join(file_chunks(fh))
    assert fh.closed
    book = load_workbook(io.BytesIO(data), read_only=True)
    values = list(book["s1"].iter_rows(values_only=True))
    assert values[0] == ("n", "text", "at")
    assert values[1][1] == "=cmd|' /C calc'!A0"  # stored as a string cell, shown as text
    assert [
        c.data_type for c in next(iter(load_workbook(io.BytesIO(data))["s1"].iter_rows(min_row=2)))
    ][1] == "s"
    assert list(book["s2"].iter_rows(values_only=True)) == [("x",), (1,)]


def test_control_characters_a_client_stored_become_replacement_characters_in_xlsx():
    # XML cannot hold them: the download must still open, showing where something was dropped
    book = load_workbook(write_xlsx([("s", ["text"], [["a\x1db\x0fc"], ["ok"]])]))
    assert [c.value for c in book["s"]["A"]] == ["text", "a\ufffdb\ufffdc", "ok"]
