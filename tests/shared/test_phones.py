"""Phone normalisation, masking and regions."""

from __future__ import annotations

import timeit

import pytest

from shared import phones
from shared.phones import (
    SUPPORTED_REGIONS,
    PhoneError,
    mask_phone,
    mask_phones_in_text,
    normalize_phone,
    phone_region,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("80291234567", "BY", "+375291234567"),  # BY domestic: trunk prefix "8 0"
        ("8 029 123-45-67", "BY", "+375291234567"),
        ("291234567", "BY", "+375291234567"),
        ("+375 (29) 123-45-67", None, "+375291234567"),
        ("+375 (29) 123-45-67", "RU", "+375291234567"),
        ("+375.29.123.45.67", None, "+375291234567"),
        ("8 916 123-45-67", "RU", "+79161234567"),  # RU domestic: trunk prefix "8"
        ("8\u00a0916\u00a0123\u00a045\u00a067", "RU", "+79161234567"),  # NBSP
        ("8 (916) 123–45–67", "RU", "+79161234567"),  # en dashes
        ("9161234567", "RU", "+79161234567"),
        ("375291234567", None, "+375291234567"),  # no plus, any default region
        ("375291234567", "BY", "+375291234567"),
        ("375291234567", "RU", "+375291234567"),
        ("375291234567", "KZ", "+375291234567"),
        ("79161234567", None, "+79161234567"),
        ("79161234567", "RU", "+79161234567"),
        ("79161234567", "BY", "+79161234567"),
        ("+7 701 123 45 67", None, "+77011234567"),  # KZ mobile
        ("8 701 123 45 67", "KZ", "+77011234567"),
        ("+7 495 123-45-67", None, "+74951234567"),  # Moscow landline
        ("+375 29 1234567", "by", "+375291234567"),  # region code case does not matter
    ],
)
def test_normalize_phone(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("", "BY", "invalid_phone"),
        ("   ", "BY", "invalid_phone"),
        ("+", None, "invalid_phone"),
        ("+375 29 CALL-ME", None, "invalid_phone"),
        ("tel:+375291234567", None, "invalid_phone"),
        ("+375291234567 ext 12", None, "invalid_phone"),
        ("+37529123456", None, "invalid_phone"),  # one digit short
        ("80291234567", None, "invalid_phone"),  # domestic form without a region to read it in
        ("+7 000 000 00 00", None, "invalid_phone"),
        ("+375291234567+", None, "invalid_phone"),
        ("+375 29 123 45 67" + " " * 16, None, "invalid_phone"),  # 33 characters raw
        ("٣٧٥٢٩١٢٣٤٥٦٧", None, "invalid_phone"),  # Arabic-Indic digits are not accepted
        ("+49 151 12345678", "RU", "unsupported_country"),
        ("4915112345678", "RU", "unsupported_country"),
        ("+1 123 456 7890", None, "invalid_phone"),  # NANP area codes never start with 1
        ("+1 212 736 5000", None, "unsupported_country"),
        ("+380 50 123 4567", "BY", "unsupported_country"),
    ],
)
def test_normalize_phone_errors(raw: str, region: str | None, code: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_phone(raw, region)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


def test_error_message_masks_the_number() -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_phone("+49 151 12345678", "RU")
    assert str(caught.value) == "country not supported, got '+4915*******78'"


def test_non_string_input_is_invalid() -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_phone(375291234567, "BY")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_phone"
    assert str(caught.value) == "not a valid phone number, got 'int'"


def test_supported_can_be_narrowed_or_widened() -> None:
    assert SUPPORTED_REGIONS == frozenset({"RU", "BY", "KZ"})
    with pytest.raises(PhoneError) as caught:
        normalize_phone("+77011234567", supported=frozenset({"RU"}))
    assert caught.value.code == "unsupported_country"
    assert normalize_phone("+49 151 12345678", supported=frozenset({"DE"})) == "+4915112345678"


def test_unknown_default_region_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="default_region must be an ISO country code, got 'XX'"):
        normalize_phone("80291234567", "XX")


def test_normalize_phone_is_fast() -> None:
    phones._resolve.cache_clear()
    numbers = [f"+37529{n:07d}" for n in range(1_000_000, 1_000_200)]
    cold = timeit.timeit(lambda: [normalize_phone(n) for n in numbers], number=1) / len(numbers)
    warm = timeit.timeit(lambda: normalize_phone("+375291234567"), number=2000) / 2000
    # phonenumbers' parse alone is ~20 us here; allow slow CI machines a wide margin.
    assert cold < 500e-6
    assert warm < 20e-6


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+375291234567", "+37529*****67"),
        ("+79161234567", "+791******67"),
        ("+77011234567", "+770******67"),
        ("+4915112345678", "+4915*******78"),
        ("+12025550143", "+120******43"),
        ("+375 (29) 123-45-67", "+37529*****67"),
        ("80291234567", "80*******67"),  # no country code to keep
        ("+88800", "+888**"),  # short: never more than half the national digits shown
        ("+7123", "+7***"),
        ("12", "**"),
        ("", "***"),
        ("hello", "***"),
        ("+375 29 abc", "***"),
        (None, "***"),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("send to +375291234567 ok", "send to +37529*****67 ok"),
        ('{"phone": "+79161234567"}', '{"phone": "+791******67"}'),
        ("call +7 (916) 123-45-67, or 8 029 123 45 67.", "call +791******67, or 80*******67."),
        ("+375 (29) 123-45-67", "+37529*****67"),
        ("phone=79161234567&x=1", "phone=79*******67&x=1"),
        ("two: +375291234567/+77011234567", "two: +37529*****67/+770******67"),
        # Not phones: too short, too long, timestamps, UUID groups, decimals, IPs.
        ("order 727 total 29.35", "order 727 total 29.35"),
        ("code 123456789", "code 123456789"),
        ("id 12345678901234567890", "id 12345678901234567890"),
        ("2026-11-22 18:04:05,123 INFO", "2026-11-22 18:04:05,123 INFO"),
        ("at 2026-11-22T18:04:05.123+00:00", "at 2026-11-22T18:04:05.123+00:00"),
        ("req 123e4567-e89b-12d3-a456-426614174000", "req 123e4567-e89b-12d3-a456-426614174000"),
        ("t=1732288800.5", "t=1732288800.5"),
        ("ip 192.168.100.200", "ip 192.168.100.200"),
        ("", ""),
    ],
)
def test_mask_phones_in_text(line: str, masked: str) -> None:
    assert mask_phones_in_text(line) == masked


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+375291234567", "BY"),
        ("+79161234567", "RU"),
        ("+77011234567", "KZ"),
        ("+74951234567", "RU"),
        ("+4915112345678", "DE"),
        ("+37529123456", None),
        ("80291234567", None),
        ("not a phone", None),
        (None, None),
    ],
)
def test_phone_region(e164: str, region: str | None) -> None:
    assert phone_region(e164) == region
