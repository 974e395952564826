"""A tenant's policy settings: defaults, validation, and conversion to the pure TenantPolicy."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relay.policy import TenantPolicy
from relay.storage.models import Tenant

DEFAULT_SETTINGS: dict[str, Any] = {
    "quiet_hours": {"start": "23:00", "end": "07:00"},
    "transactional_quiet_hours": True,
    "timezone_mode": "strict",  # or "store": use the store's zone when a number has several
    "frequency_cap": 2,
    "frequency_window_days": 7,
    "optout_footer": "Отказ: STOP",
    "supported_regions": ["RU", "BY", "KZ"],
    "consent_source_line": False,
    # docs/architecture.md, 'Growth': links rewritten to short links, and how far back an
    # order looks for the click or the delivery that led to it
    "tracking": True,
    "attribution": {"click_days": 3, "delivery_days": 1},
}


def _parse_hhmm(value: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"expected a time as HH:MM, got {value!r}") from exc


def merged_settings(tenant: Tenant) -> dict[str, Any]:
    """The tenant's settings over the defaults (a missing key takes the default)."""
    merged = dict(DEFAULT_SETTINGS)
    merged.update(tenant.settings or {})
    return merged


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check a settings dict; raise ValueError naming the first bad key."""
    quiet = settings.get("quiet_hours", DEFAULT_SETTINGS["quiet_hours"])
    _parse_hhmm(quiet.get("start", "23:00"))
    _parse_hhmm(quiet.get("end", "07:00"))
    if settings.get("timezone_mode", "strict") not in ("strict", "store"):
        raise ValueError(
            f"timezone_mode must be strict or store, got {settings['timezone_mode']!r}"
        )
    cap = settings.get("frequency_cap", 2)
    if not isinstance(cap, int) or cap < 0:
        raise ValueError(f"frequency_cap must be a whole number ≥ 0, got {cap!r}")
    if not isinstance(settings.get("tracking", True), bool):
        raise ValueError(f"tracking must be true or false, got {settings['tracking']!r}")
    windows = settings.get("attribution", DEFAULT_SETTINGS["attribution"])
    if not isinstance(windows, dict):
        raise ValueError(f"attribution must be an object, got {windows!r}")
    for key in ("click_days", "delivery_days"):
        days = windows.get(key, DEFAULT_SETTINGS["attribution"][key])
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 30:
            raise ValueError(f"attribution.{key} must be a whole number 0–30, got {days!r}")
    return settings


def tracking_on(tenant: Tenant) -> bool:
    """Whether the tenant's links are replaced by tracked short links."""
    return bool(merged_settings(tenant).get("tracking", True))


def attribution_windows(tenant: Tenant) -> tuple[timedelta, timedelta]:
    """(after a click, after a delivery): how long an order is credited to the message."""
    windows = {**DEFAULT_SETTINGS["attribution"], **(merged_settings(tenant)["attribution"] or {})}
    return timedelta(days=int(windows["click_days"])), timedelta(days=int(windows["delivery_days"]))


def validate_timezone(name: str) -> str:
    """Return `name` if it is an IANA zone, else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone, got {name!r}") from exc
    return name


def tenant_policy(tenant: Tenant, sender_names: frozenset[tuple[str, str]]) -> TenantPolicy:
    """Build the pure policy settings for one tenant."""
    s = merged_settings(tenant)
    return TenantPolicy(
        quiet_start=_parse_hhmm(s["quiet_hours"]["start"]),
        quiet_end=_parse_hhmm(s["quiet_hours"]["end"]),
        transactional_quiet_hours=bool(s["transactional_quiet_hours"]),
        timezone_mode=s["timezone_mode"],
        store_timezone=tenant.timezone,
        frequency_cap=int(s["frequency_cap"]),
        frequency_window=timedelta(days=int(s["frequency_window_days"])),
        optout_footer=s["optout_footer"] or "",
        sender_names=sender_names,
        disabled=tenant.status != "active",
        content_waivers=content_waivers(s),
        consent_source_line=bool(s.get("consent_source_line", False)),
    )


def content_waivers(settings: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """(rule, word) pairs the tenant justified when saving templates (relay.content)."""
    pairs = set()
    for waiver in settings.get("content_waivers") or []:
        if not isinstance(waiver, dict) or not isinstance(waiver.get("rule"), str):
            continue
        words = waiver.get("words") or ["*"]
        pairs |= {(waiver["rule"], str(w).lower()) for w in words}
    return frozenset(pairs)
