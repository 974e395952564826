"""Recipient time zones: the resolution order, corrections, and the region table."""

from __future__ import annotations

import pytest

from relay.policy import (
    RecipientFacts,
    TenantPolicy,
    region_code_for_name,
    region_rows,
    region_timezone,
    resolve_timezones,
)

MOBILE = "+79161234567"
VLADIVOSTOK_LANDLINE = "+74232123456"
STRICT = TenantPolicy()
STORE = TenantPolicy(timezone_mode="store", store_timezone="Asia/Yekaterinburg")

ISO_RU = (
    "AD AL BA BU CE CU DA IN KB KL KC KR KK KO ME MO SA SE TA TY UD "
    "ALT KAM KHA KDA KYA PER PRI STA ZAB "
    "AMU ARK AST BEL BRY CHE IRK IVA KGD KLU KEM KIR KOS KGN KRS LEN LIP MAG MOS MUR NIZ "
    "NGR NVS OMS ORE ORL PNZ PSK ROS RYA SAK SAM SAR SMO SVE TAM TOM TUL TVE TYU ULY VLA "
    "VGG VLG VOR YAR MOW SPE YEV CHU KHM NEN YAN"
).split()


def test_explicit_zone_beats_region_beats_numbering_beats_phonenumbers() -> None:
    facts = RecipientFacts(
        explicit_timezone="Asia/Vladivostok", region="RU-KGD", numbering_timezone="Asia/Omsk"
    )
    assert resolve_timezones(MOBILE, facts, STRICT) == (("Asia/Vladivostok",), "explicit")
    facts = RecipientFacts(region="RU-KGD", numbering_timezone="Asia/Omsk")
    assert resolve_timezones(MOBILE, facts, STRICT) == (("Europe/Kaliningrad",), "region")
    facts = RecipientFacts(numbering_timezone="Asia/Omsk")
    assert resolve_timezones(VLADIVOSTOK_LANDLINE, facts, STRICT) == (("Asia/Omsk",), "numbering")
    assert resolve_timezones(VLADIVOSTOK_LANDLINE, RecipientFacts(), STRICT) == (
        ("Asia/Vladivostok",),
        "phonenumbers",
    )


def test_invalid_explicit_zone_region_and_numbering_are_skipped() -> None:
    facts = RecipientFacts(explicit_timezone="Mars/Olympus", region="RU-MOW")
    assert resolve_timezones(MOBILE, facts, STRICT) == (("Europe/Moscow",), "region")
    facts = RecipientFacts(
        explicit_timezone="../../etc/passwd", region="XX-YY", numbering_timezone="Not/AZone"
    )
    assert resolve_timezones(VLADIVOSTOK_LANDLINE, facts, STRICT) == (
        ("Asia/Vladivostok",),
        "phonenumbers",
    )


def test_russian_mobile_gives_sixteen_candidates_with_kaliningrad_for_bucharest() -> None:
    zones, source = resolve_timezones(MOBILE, RecipientFacts(), STRICT)
    assert source == "candidates"
    assert len(zones) == 16
    assert "Europe/Kaliningrad" in zones
    assert "Europe/Bucharest" not in zones
    assert zones[0] == "Asia/Almaty" and zones[-1] == "Europe/Samara"


def test_kaliningrad_landline_is_kaliningrad_not_bucharest() -> None:
    assert resolve_timezones("+74012123456", RecipientFacts(), STRICT) == (
        ("Europe/Kaliningrad",),
        "phonenumbers",
    )


@pytest.mark.parametrize("phone", ["+375171234567", "+375291234567"])
def test_belarus_numbers_are_minsk(phone: str) -> None:
    assert resolve_timezones(phone, RecipientFacts(), STRICT) == (("Europe/Minsk",), "phonenumbers")


def test_store_mode_replaces_several_candidates_but_not_one_zone() -> None:
    assert resolve_timezones(MOBILE, RecipientFacts(), STORE) == (("Asia/Yekaterinburg",), "store")
    assert resolve_timezones(VLADIVOSTOK_LANDLINE, RecipientFacts(), STORE) == (
        ("Asia/Vladivostok",),
        "phonenumbers",
    )
    assert resolve_timezones(MOBILE, RecipientFacts(region="RU-PRI"), STORE) == (
        ("Asia/Vladivostok",),
        "region",
    )


def test_unparseable_number_falls_back_to_the_store_zone() -> None:
    assert resolve_timezones("89161234567", RecipientFacts(), STRICT) == (
        ("Europe/Moscow",),
        "store",
    )


def test_region_table_covers_every_russian_subject() -> None:
    codes = {row.code for row in region_rows() if row.code}
    missing = [code for code in ISO_RU if f"RU-{code}" not in codes]
    assert missing == []
    russian = [c for c in codes if c.startswith("RU-") or c in {"UA-43", "UA-40"}]
    assert len(russian) >= 85
    assert region_timezone("UA-43") == region_timezone("RU-CR") == "Europe/Simferopol"
    assert region_timezone("UA-40") == region_timezone("RU-SEV") == "Europe/Simferopol"


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("RU-MOW", "Europe/Moscow"),
        ("ru-kgd", "Europe/Kaliningrad"),
        (" RU-SAM ", "Europe/Samara"),
        ("RU-UD", "Europe/Samara"),
        ("RU-KEM", "Asia/Novokuznetsk"),
        ("RU-ZAB", "Asia/Chita"),
        ("RU-CHU", "Asia/Anadyr"),
        ("RU-KAM", "Asia/Kamchatka"),
        ("RU-SAR", "Europe/Saratov"),
        ("RU-VGG", "Europe/Volgograd"),
        ("RU-ALT", "Asia/Barnaul"),
        ("RU-BU", "Asia/Irkutsk"),
        ("BY-HM", "Europe/Minsk"),
        ("BY-BR", "Europe/Minsk"),
        ("BY-HO", "Europe/Minsk"),
        ("BY-HR", "Europe/Minsk"),
        ("BY-MA", "Europe/Minsk"),
        ("BY-MI", "Europe/Minsk"),
        ("BY-VI", "Europe/Minsk"),
        ("KZ-ALA", "Asia/Almaty"),
        ("KZ-75", "Asia/Almaty"),
        ("KZ-AST", "Asia/Almaty"),
        ("KZ-KZY", "Asia/Qyzylorda"),
        ("KZ-AKT", "Asia/Aqtobe"),
        ("KZ-MAN", "Asia/Aqtau"),
        ("KZ-ATY", "Asia/Atyrau"),
        ("KZ-ZAP", "Asia/Oral"),
        ("KZ-KUS", "Asia/Qostanay"),
        ("XX-YY", None),
        ("", None),
    ],
)
def test_region_zones(code: str, zone: str | None) -> None:
    assert region_timezone(code) == zone


def test_every_kazakh_region_is_there() -> None:
    kz = {row.code for row in region_rows() if row.code and row.code.startswith("KZ-")}
    assert len(kz) == 20  # 17 regions + Almaty, Astana, Shymkent


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Краснодарский край", "RU-KDA"),
        ("г. Москва", "RU-MOW"),
        ("Город Москва", "RU-MOW"),
        ("Москва и Московская область", "RU-MOW"),
        ("Московская обл.", "RU-MOS"),
        ("Республика Бурятия", "RU-BU"),
        ("г. Улан - Удэ|Республика Бурятия", "RU-BU"),
        ("  РЕСПУБЛИКА   бурятия ", "RU-BU"),
        ("Татарстан Респ", "RU-TA"),
        ("Республика Саха /Якутия/", "RU-SA"),
        ("Кемеровская область - Кузбасс", "RU-KEM"),
        ("Ханты-Мансийский автономный округ - Югра", "RU-KHM"),
        ("Ненецкий автономный округ", "RU-NEN"),
        ("Ямало-Ненецкий автономный округ", "RU-YAN"),
        ("Чувашская Республика - Чувашия", "RU-CU"),
        ("Орёл|Орловская область", "RU-ORL"),
        ("Республика Северная Осетия-Алания", "RU-SE"),
        ("Республика Крым", "UA-43"),
        ("г. Минск", "BY-HM"),
        ("Могилевская область", "BY-MA"),
        ("г. Алматы", "KZ-ALA"),
        ("Российская Федерация", None),
        ("-", None),
        ("", None),
    ],
)
def test_region_code_for_name(name: str, code: str | None) -> None:
    assert region_code_for_name(name) == code
