"""Which phone numbers may sign up or sign in: mobile numbers of Russia, Belarus and Kazakhstan.

Sign-up forms are a known channel for SMS-pumping fraud (bots make a site text premium-rate
or foreign numbers that pay the fraudster), so a code goes only to a number that phonenumbers
types as MOBILE in a supported country — never premium-rate, shared-cost, fixed-line or VoIP.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from relay.errors import RelayError
from shared.phones import SUPPORTED_REGIONS, PhoneError, normalize_phone

ALLOWED_TYPES = frozenset({PhoneNumberType.MOBILE})


def login_phone(raw: str | None, default_region: str | None = "RU") -> str:
    """`raw` as E.164 when it is a mobile number of RU/BY/KZ; RelayError otherwise."""
    try:
        e164 = normalize_phone(raw or "", default_region)
    except PhoneError as exc:
        code = "unsupported_number" if exc.code == "unsupported_country" else "invalid_phone"
        raise RelayError(code, exc.for_caller(), 422, {"phone": [exc.for_caller()]}) from exc
    number = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(number)
    kind = phonenumbers.number_type(number)
    if region not in SUPPORTED_REGIONS or kind not in ALLOWED_TYPES:
        raise RelayError(
            "unsupported_number",
            "only mobile numbers of Russia, Belarus and Kazakhstan can be used",
            422,
            {"phone": ["a mobile number of RU, BY or KZ"]},
        )
    return e164
