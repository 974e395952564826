"""The Russian numbering registry parser and range lookup."""

from __future__ import annotations

import io

import pytest

from relay.policy import NumberRange, iter_ranges, lookup, sorted_ranges, to_national_number

HEADER_8 = "АВС/ DEF;От;До;Емкость;Оператор;Регион;Территория ГАР;ИНН"
ROWS_8 = [
    '900;0000000;0061999;62000;ООО "Т2 Мобайл";Краснодарский край;Краснодарский край;7743895280',
    '900;0100000;0199999;100000;ООО "Т2 Мобайл";-;Республика Бурятия;7743895280',
    '411;2200000;2299999;100000;ПАО "Ростелеком";г. Якутск|Республика Саха (Якутия);'
    "г.о. город Якутск|Республика Саха (Якутия);7707049388",
    '411;5420000;5429999;10000;ПАО "Ростелеком";-;'
    "м.р-н Оймяконский|Республика Саха (Якутия);7707049388",
    '800;1000000;1009999;10000;ПАО "Ростелеком";Российская Федерация;'
    "Российская Федерация;7707049388",
]


def bom_utf8_file() -> io.BytesIO:
    text = "\n".join([HEADER_8, *ROWS_8]) + "\n"
    return io.BytesIO(b"\xef\xbb\xbf" + text.encode("utf-8"))


def test_bom_utf8_eight_columns_from_a_binary_file() -> None:
    ranges = list(iter_ranges(bom_utf8_file()))
    assert ranges[0] == NumberRange(
        prefix_code="900",
        start=9000000000,
        end=9000061999,
        operator='ООО "Т2 Мобайл"',
        region="Краснодарский край",
        region_code="RU-KDA",
        timezone="Europe/Moscow",
    )
    # "-" in Регион: the territory column names the region.
    assert (ranges[1].region, ranges[1].region_code, ranges[1].timezone) == (
        "Республика Бурятия",
        "RU-BU",
        "Asia/Irkutsk",
    )
    # Sakha's main zone, and a district of it that lives three hours later.
    assert (ranges[2].region_code, ranges[2].timezone) == ("RU-SA", "Asia/Yakutsk")
    assert (ranges[3].region_code, ranges[3].timezone) == ("RU-SA", "Asia/Ust-Nera")
    # Non-geographic 800 numbers get no zone.
    assert (ranges[4].region_code, ranges[4].timezone) == (None, None)
    assert len(ranges) == 5


def test_cp1251_six_columns_with_town_and_region() -> None:
    text = (
        "АВС/ DEF;От;До;Емкость;Оператор;Регион\r\n"
        '301;2110000;2129999;20000;ПАО "Ростелеком";г. Улан - Удэ|Республика Бурятия\r\n'
        "343;0000000;0999999;1000000;ПАО Ростелеком;Свердловская обл.\r\n"
    )
    data = text.encode("cp1251")
    ranges = list(iter_ranges(io.BytesIO(data)))
    assert [(r.prefix_code, r.start, r.end, r.region_code, r.timezone) for r in ranges] == [
        ("301", 3012110000, 3012129999, "RU-BU", "Asia/Irkutsk"),
        ("343", 3430000000, 3430999999, "RU-SVE", "Asia/Yekaterinburg"),
    ]
    assert ranges[0].region == "г. Улан - Удэ|Республика Бурятия"
    assert ranges[0].operator == 'ПАО "Ростелеком"'
    # The same bytes as a list of lines work too.
    assert list(iter_ranges(data.splitlines(keepends=True))) == ranges


def test_seven_columns_as_text_lines() -> None:
    lines = [
        "АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН",
        "DEF;This;is;not;a;row;at all",
        '401;2000000;2999999;1000000;ПАО "Ростелеком";Калининградская обл.;7707049388',
        "",
        '914;7000000;7099999;100000;ПАО "МТС";Приморский край;7740000076',
    ]
    errors: list[tuple[int, str]] = []
    ranges = list(iter_ranges(lines, on_error=lambda line, why: errors.append((line, why))))
    assert [(r.prefix_code, r.region_code, r.timezone, r.operator) for r in ranges] == [
        ("401", "RU-KGD", "Europe/Kaliningrad", 'ПАО "Ростелеком"'),
        ("914", "RU-PRI", "Asia/Vladivostok", 'ПАО "МТС"'),
    ]
    assert [line for line, _ in errors] == [2]


def test_headerless_rows_and_unknown_regions() -> None:
    lines = [
        "949;0000000;0999999;1000000;ООО К-Телеком;Донецкая Народная Республика;"
        "Донецкая Народная Республика;9303000000",
        "958;0000000;0009999;10000;ООО X;Атлантида;Атлантида;123",
    ]
    first, second = iter_ranges(lines)
    assert (first.region_code, first.timezone) == (None, "Europe/Moscow")
    assert (second.region_code, second.timezone, second.region) == (None, None, "Атлантида")


def test_gar_territory_wins_over_a_disagreeing_region() -> None:
    lines = [
        HEADER_8,
        "856;6253000;6253999;1000;ГУП ДНР РОС;Краснодарский край;Приморский край;9303000000",
    ]
    (only,) = iter_ranges(lines)
    assert (only.region_code, only.timezone) == ("RU-PRI", "Asia/Vladivostok")


def test_bad_rows_are_reported_and_skipped() -> None:
    lines = [
        HEADER_8,
        "90;0;1;2;x;Краснодарский край;Краснодарский край;1",
        "900;0000009;0000001;1;x;Краснодарский край;Краснодарский край;1",
        "900;0000000;10000000;1;x;Краснодарский край;Краснодарский край;1",
        "900;0000000",
    ]
    errors: list[int] = []
    assert list(iter_ranges(lines, on_error=lambda line, why: errors.append(line))) == []
    assert errors == [2, 3, 4, 5]


def test_lookup_hits_ranges_and_misses_gaps() -> None:
    ranges = sorted_ranges(reversed(list(iter_ranges(bom_utf8_file()))))
    assert [r.start for r in ranges] == sorted(r.start for r in ranges)
    assert lookup(ranges, 9000000000).end == 9000061999
    assert lookup(ranges, 9000061999).start == 9000000000
    assert lookup(ranges, "+7 900 010-00-00").region_code == "RU-BU"
    assert lookup(ranges, "89000199999").region_code == "RU-BU"
    assert lookup(ranges, 9000062000) is None  # the gap between the two 900 ranges
    assert lookup(ranges, 9002000000) is None  # after the last 900 range
    assert lookup(ranges, 3000000000) is None  # before the first range
    assert lookup(ranges, "4115425555").timezone == "Asia/Ust-Nera"
    assert lookup([], 9000000000) is None
    assert lookup(ranges, "12345") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9161234567, 9161234567),
        ("9161234567", 9161234567),
        ("+79161234567", 9161234567),
        ("8 (916) 123-45-67", 9161234567),
        ("+375291234567", None),
        ("", None),
        (True, None),
    ],
)
def test_to_national_number(value: int | str, expected: int | None) -> None:
    assert to_national_number(value) == expected


def test_number_range_validates_itself() -> None:
    with pytest.raises(ValueError, match="3 digits"):
        NumberRange("90", 900000000, 900000001, "x", "y", None, None)
    with pytest.raises(ValueError, match="start <= end"):
        NumberRange("900", 9010000000, 9010000001, "x", "y", None, None)
    with pytest.raises(ValueError, match="IANA zone"):
        NumberRange("900", 9000000000, 9000000001, "x", "y", None, "Mars/Olympus")
