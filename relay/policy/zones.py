"""Which time zone(s) a recipient is in, for quiet hours.

Order (docs/architecture.md, 'Time zones'): explicit zone → address region → numbering
registry → the numbering plan via ``phonenumbers`` when it names one zone → the candidate set
(strict) or, when the tenant chose so, the store's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers.timezone import time_zones_for_number

from relay.policy.model import RecipientFacts, TenantPolicy
from relay.policy.regions import region_code_for_name, region_timezone
from relay.policy.tzcache import get_zone

__all__ = [
    "PhoneInfo",
    "get_zone",
    "phone_info",
    "region_code_for_name",
    "region_timezone",
    "resolve_timezones",
]

# phonenumbers answers Europe/Bucharest for Kaliningrad landlines (+7 401…) and uses it as
# the UTC+2 member of the Russian/Kazakh mobile candidate set. Bucharest has summer time;
# Kaliningrad is UTC+2 all year, so Bucharest would be an hour off from March to October.
_PLAN_ZONE_FIXES: dict[int, dict[str, str]] = {7: {"Europe/Bucharest": "Europe/Kaliningrad"}}
# Belarus is one zone; phonenumbers says Europe/Moscow (same offset today), but naming the
# real zone keeps explanations right and survives any future change of either country.
_COUNTRY_ZONE: dict[int, str] = {375: "Europe/Minsk"}
_UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """What the numbering plan says about one number (parsed once, then cached)."""

    country_code: int
    region: str | None  # phonenumbers' region ("RU", "KZ", "BY"…)
    zones: tuple[str, ...]  # corrected, known zones; empty when the plan knows none

    def __post_init__(self) -> None:
        if self.country_code <= 0:
            raise ValueError(f"PhoneInfo.country_code must be positive, got {self.country_code!r}")


def _plan_zones(number: phonenumbers.PhoneNumber, country: int) -> tuple[str, ...]:
    if country in _COUNTRY_ZONE:
        return (_COUNTRY_ZONE[country],)
    fixes = _PLAN_ZONE_FIXES.get(country, {})
    zones: list[str] = []
    for zone in time_zones_for_number(number):
        zone = fixes.get(zone, zone)
        if zone != _UNKNOWN_ZONE and zone not in zones and get_zone(zone) is not None:
            zones.append(zone)
    return tuple(zones)


@lru_cache(maxsize=65536)
def phone_info(phone: str) -> PhoneInfo | None:
    """Parse an E.164 number; None when phonenumbers cannot parse it or its length is
    impossible for its country.

    Cached per number: parsing costs ~20 µs and the time-zone lookup as much again, while
    the same customers are messaged over and over (intake, then the worker's re-check).
    """
    if not isinstance(phone, str):
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except NumberParseException:
        return None
    country = number.country_code  # always set by parse(); None only on a blank PhoneNumber
    if country is None or not phonenumbers.is_possible_number(number):
        return None
    return PhoneInfo(
        country_code=country,
        region=phonenumbers.region_code_for_number(number),
        zones=_plan_zones(number, country),
    )


def resolve_timezones(
    phone: str, facts: RecipientFacts, policy: TenantPolicy
) -> tuple[tuple[str, ...], str]:
    """Return ``(zones, source)``: the zone(s) quiet hours are checked in, and where they
    came from ("explicit" | "region" | "numbering" | "phonenumbers" | "candidates" | "store").

    Invalid or unknown zone names and region codes are skipped (the next source is used),
    because they come from CRMs and imports that the relay does not control.
    """
    explicit = facts.explicit_timezone
    if explicit and get_zone(explicit) is not None:
        return (explicit,), "explicit"
    if facts.region:
        zone = region_timezone(facts.region)
        if zone is not None:
            return (zone,), "region"
    numbering = facts.numbering_timezone
    if numbering and get_zone(numbering) is not None:
        return (numbering,), "numbering"
    info = phone_info(phone)
    zones = info.zones if info is not None else ()
    if len(zones) == 1:
        return zones, "phonenumbers"
    if len(zones) > 1 and policy.timezone_mode == "strict":
        return zones, "candidates"
    # Store mode with several candidates, or nothing known about the number at all.
    return (policy.store_timezone,), "store"
