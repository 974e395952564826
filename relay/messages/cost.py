"""Cost estimates from a tariff table: per channel, destination operator or country, per part.

SMS is priced per segment (so a long Cyrillic text costs what its parts cost), Viber per
message. Lookup order: operator (`CC:Operator`, from phonenumbers' carrier data — the original
range holder; numbers moved to another operator keep their old range, good enough for an
estimate) → country → default. The shipped table (relay/data/tariffs.json) is replaced by
RELAY_TARIFFS (same shape) or a tenant's `tariffs` setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import phonenumbers
from phonenumbers import carrier


@dataclass(frozen=True)
class Estimate:
    """An estimated cost and how it was priced."""

    cost: Decimal
    currency: str
    unit_price: Decimal
    units: int
    basis: str  # "operator:RU:MTS" | "country:RU" | "default"


@lru_cache(maxsize=1)
def default_tariffs() -> dict[str, Any]:
    """The shipped tariff table."""
    table: dict[str, Any] = json.loads(
        resources.files("relay").joinpath("data/tariffs.json").read_text()
    )
    return table


@lru_cache(maxsize=65536)
def destination(phone: str) -> tuple[str | None, str | None]:
    """(country, operator) of an E.164 number; operator is None when unknown."""
    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return None, None
    country = phonenumbers.region_code_for_number(parsed)
    name = carrier.name_for_number(parsed, "en") or None
    return country, name


def estimate(
    phone: str, channel: str, segments: int, tariffs: dict[str, Any] | None = None
) -> Estimate:
    """Price one message to `phone`: SMS per segment, Viber per message."""
    country, operator = destination(phone)
    return estimate_for(country, operator, channel, segments, tariffs)


def estimate_for(
    country: str | None,
    operator: str | None,
    channel: str,
    segments: int,
    tariffs: dict[str, Any] | None = None,
) -> Estimate:
    """Price one message to a destination country (and operator, when known)."""
    table = tariffs or default_tariffs()
    prices = table.get(channel) or {}
    units = max(segments, 1) if channel == "sms" else 1
    basis, price = "default", prices.get("default", "0")
    op_key = f"{country}:{operator}"
    if operator and op_key in (prices.get("operators") or {}):
        basis, price = f"operator:{op_key}", prices["operators"][op_key]
    elif country and country in (prices.get("countries") or {}):
        basis, price = f"country:{country}", prices["countries"][country]
    unit = Decimal(str(price))
    return Estimate(
        cost=unit * units,
        currency=table.get("currency", "RUB"),
        unit_price=unit,
        units=units,
        basis=basis,
    )


def price_for_tenant(tenant: Any, phone: str | None, channel: str, segments: int) -> Estimate:
    """The estimate for a known number, or for the tenant's own country when there is none."""
    tariffs = (tenant.settings or {}).get("tariffs")
    if phone:
        return estimate(phone, channel, segments, tariffs)
    return estimate_for(tenant.region, None, channel, segments, tariffs)
