"""Phone numbers: normalise to E.164, mask for logs, tell the country.

Built on `phonenumbers` (Google's libphonenumber metadata), so validity follows the numbering
plans it ships; upgrade the package to learn new ranges.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

SUPPORTED_REGIONS = frozenset({"RU", "BY", "KZ"})
MAX_RAW_LENGTH = 32  # longer input is not a phone number, whatever it contains
INVALID_PHONE = "invalid_phone"
UNSUPPORTED_COUNTRY = "unsupported_country"

# Formatting people and platforms put into numbers: spaces (incl. NBSP, thin and narrow
# no-break spaces, tabs), dashes of every kind, dots and parentheses.
_FORMATTING = " \t\u00a0\u2007\u2009\u202f-\u2010\u2011\u2012\u2013\u2014\u2212.()"
_STRIP = str.maketrans("", "", _FORMATTING)
_COUNTRY_CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE  # {375: ("BY",), 7: ("RU", "KZ"), …}


class PhoneError(ValueError):
    """A number that cannot be used: `code` is "invalid_phone" or "unsupported_country".

    `str(exc)` masks the number (exception texts end up in logs and Sentry); `for_caller()`
    shows the caller's own input back, for the error answered to that caller.
    """

    def __init__(
        self, code: str, message: str, raw: object = None, what: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.raw = raw
        self.what = what

    def for_caller(self) -> str:
        """The message with the input exactly as the caller sent it (never for logs)."""
        if self.what is None:
            return str(self)
        return f"{self.what}, got {self.raw!r}"


def _compact(raw: str) -> tuple[bool, str] | None:
    """(has_plus, digits) with formatting removed, or None when anything else is left."""
    compact = raw.translate(_STRIP)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    # isdecimal() alone would accept Arabic-Indic or full-width digits; keep to ASCII.
    if not digits or not (digits.isascii() and digits.isdecimal()):
        return None
    return plus, digits


def normalize_phone(
    raw: str,
    default_region: str | None = None,
    supported: frozenset[str] = SUPPORTED_REGIONS,
) -> str:
    """Return `raw` as E.164 ("+375291234567") or raise PhoneError.

    Tries the number as dialled in `default_region` first (so "8 029 …" in BY and "8 916 …" in
    RU work), then as an international number with a '+' added ("375291234567"). The first
    valid number in a `supported` region wins; a valid number elsewhere is
    "unsupported_country", anything else "invalid_phone". `default_region` must be an ISO code
    phonenumbers knows (a wrong one is a configuration error: plain ValueError).
    """
    if default_region is not None:
        default_region = default_region.upper()
        if default_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"default_region must be an ISO country code, got {default_region!r}")
    compact = _compact(raw) if isinstance(raw, str) and len(raw) <= MAX_RAW_LENGTH else None
    if compact is None:
        code = INVALID_PHONE
    else:
        e164, code = _resolve(*compact, default_region, frozenset(supported))
        if e164 is not None:
            return e164
    # The message carries a masked copy only: exception texts end up in logs and Sentry.
    shown = mask_phone(raw) if isinstance(raw, str) else type(raw).__name__
    what = "country not supported" if code == UNSUPPORTED_COUNTRY else "not a valid phone number"
    raise PhoneError(code, f"{what}, got {shown!r}", raw, what)


# Parsing costs ~20-30 us; intake, policy and delivery normalise the same numbers again and
# again, so results (errors included) are memoised. Keys are compacted digits: a few MB at most.
@functools.lru_cache(maxsize=16384)
def _resolve(
    plus: bool, digits: str, default_region: str | None, supported: frozenset[str]
) -> tuple[str | None, str]:
    """(E.164, "") for a usable number, else (None, error code)."""
    attempts: list[tuple[str, str | None]] = []
    if not plus and default_region is not None:
        attempts.append((digits, default_region))
    attempts.append(("+" + digits, None))
    foreign = False
    for text, region in attempts:
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException:
            continue
        # region_code_for_number only returns a region whose plan the number fits, so checking
        # validity for that one region is enough (is_valid_number would find it again).
        found = phonenumbers.region_code_for_number(number)
        if found is None or not phonenumbers.is_valid_number_for_region(number, found):
            continue
        if found in supported:
            return phonenumbers.format_number(number, PhoneNumberFormat.E164), ""
        foreign = True  # keep looking: the '+' reading may still be a supported country
    return None, UNSUPPORTED_COUNTRY if foreign else INVALID_PHONE


def phone_region(e164: str) -> str | None:
    """ISO country of a valid international number ("KZ" for +7 7xx), else None."""
    if not isinstance(e164, str):
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.region_code_for_number(number)


def _country_code_length(digits: str) -> int:
    # Country calling codes are prefix-free (ITU E.164), so the first hit is the code.
    for length in (1, 2, 3):
        if int(digits[:length]) in _COUNTRY_CODES:
            return length
    return 0


def mask_phone(e164: str) -> str:
    """Mask a number for logs: "+375291234567" → "+37529*****67".

    Keeps the country code, then at most two leading and two trailing national digits, and
    never more than half of the national number. Input that is not a number becomes "***".
    """
    if not isinstance(e164, str):
        return "***"
    compact = _compact(e164)
    if compact is None:
        return "***"
    plus, digits = compact
    code_length = _country_code_length(digits) if plus else 0
    code, national = digits[:code_length], digits[code_length:]
    keep = min(2, len(national) // 4)
    hidden = "*" * (len(national) - 2 * keep)
    tail = national[len(national) - keep :]
    return ("+" if plus else "") + code + national[:keep] + hidden + tail


# A phone-like run: optional '+', optional '(', then 10-15 digits with single separators
# (space, NBSP, dash, ') ', ' (') between them. The look-arounds keep it off parts of longer
# tokens: ids and UUID groups ("…-426614174000"), decimals ("1732288800.5") and log
# timestamps ("2026-11-22 18:04:05" would otherwise read as ten digits).
_PHONE_RUN = re.compile(
    r"(?<![\w+])(?<!\w-)(?<!\d\.)"
    r"\+?\(?\d(?:(?:[ \u00a0-]|\) ?| ?\()?\d){9,14}"
    r"(?![\w:])(?!-\w)(?!\.\d)"
)


def mask_phones_in_text(text: str) -> str:
    """Mask every phone-like run of 10-15 digits in a log line (see mask_phone)."""
    return _PHONE_RUN.sub(lambda match: mask_phone(match.group(0)), text)
