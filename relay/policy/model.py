"""Plain data of the policy core: what goes into ``decide()`` and what comes out.

Every class is a small frozen dataclass that checks itself in ``__post_init__`` so a bad
fact fails loudly where it is built, not three calls later inside a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from relay.policy.tzcache import get_zone

SEND, DEFER, BLOCK = "send", "defer", "block"
ACTIONS = frozenset({SEND, DEFER, BLOCK})

# Reason codes that decide a BLOCK.
STOP_LIST = "stop_list"
NO_CONSENT = "no_consent"
FREQUENCY_CAP = "frequency_cap"
INVALID_PHONE = "invalid_phone"
CONTENT_RULE = "content_rule"
SENDER_NOT_ALLOWED = "sender_not_allowed"
TENANT_DISABLED = "tenant_disabled"
BLOCK_REASONS = frozenset(
    {
        STOP_LIST,
        NO_CONSENT,
        FREQUENCY_CAP,
        INVALID_PHONE,
        CONTENT_RULE,
        SENDER_NOT_ALLOWED,
        TENANT_DISABLED,
    }
)
# Reason codes that decide a DEFER ("throttled" is set by the delivery layer, not here).
QUIET_HOURS = "quiet_hours"
THROTTLED = "throttled"
DEFER_REASONS = frozenset({QUIET_HOURS, THROTTLED})
# Informational codes: they never decide anything, they only explain what was done.
FOOTER_APPENDED = "footer_appended"
TIMEZONE_FALLBACK = "timezone_fallback"
CONSENT_SOURCE_ADDED = "consent_source_added"
INFO_REASONS = frozenset({FOOTER_APPENDED, TIMEZONE_FALLBACK, CONSENT_SOURCE_ADDED})

CHANNELS = frozenset({"sms", "viber"})
CATEGORIES = frozenset({"transactional", "marketing"})
TRANSACTIONAL, MARKETING = "transactional", "marketing"
# "review": a hold while a person decides whether a reply was an opt-out (marketing only)
STOP_SOURCES = frozenset({"keyword", "admin", "import", "crm", "review"})
REVIEW_HOLD = "review"
TIMEZONE_MODES = frozenset({"strict", "store"})
TIMEZONE_SOURCES = frozenset(
    {"explicit", "region", "numbering", "phonenumbers", "candidates", "store"}
)


def _require_aware(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a timezone-aware datetime."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _require_channel(name: str, value: Any, *, optional: bool) -> None:
    if value is None and optional:
        return
    if value not in CHANNELS:
        raise ValueError(f"{name} must be one of {sorted(CHANNELS)}, got {value!r}")


def _require_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision was taken (or an informational note about what was done)."""

    code: str
    detail: str = ""

    def __post_init__(self) -> None:
        _require_text("Reason.code", self.code)
        if not isinstance(self.detail, str):
            raise ValueError(f"Reason.detail must be a string, got {self.detail!r}")

    def to_dict(self) -> dict[str, str]:
        """The wire form: ``{"code": ..., "detail": ...}``."""
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class StopEntry:
    """One stop-list entry for the recipient; ``channel`` None covers every channel."""

    channel: str | None
    source: str
    created_at: datetime

    def __post_init__(self) -> None:
        _require_channel("StopEntry.channel", self.channel, optional=True)
        if self.source not in STOP_SOURCES:
            raise ValueError(
                f"StopEntry.source must be one of {sorted(STOP_SOURCES)}, got {self.source!r}"
            )
        _require_aware("StopEntry.created_at", self.created_at)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One line of the marketing consent ledger (grant or revoke)."""

    granted: bool
    channel: str | None
    source: str
    recorded_at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.granted, bool):
            raise ValueError(f"ConsentRecord.granted must be a bool, got {self.granted!r}")
        _require_channel("ConsentRecord.channel", self.channel, optional=True)
        # The source list grows with new capture points, so only its shape is checked.
        _require_text("ConsentRecord.source", self.source)
        _require_aware("ConsentRecord.recorded_at", self.recorded_at)


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """A tenant's settings for the rules; the defaults are the law's and the product's."""

    quiet_start: time = time(23, 0)
    quiet_end: time = time(7, 0)
    transactional_quiet_hours: bool = True
    timezone_mode: str = "strict"
    store_timezone: str = "Europe/Moscow"
    frequency_cap: int = 2
    frequency_window: timedelta = timedelta(days=7)
    optout_footer: str = ""
    sender_names: frozenset[tuple[str, str]] = frozenset()
    disabled: bool = False
    # (rule, word): soft advertising findings the tenant justified (relay.policy.advertising)
    content_waivers: frozenset[tuple[str, str]] = frozenset()
    # end marketing texts with where and when the person agreed, when it fits (consent_line)
    consent_source_line: bool = False

    def __post_init__(self) -> None:
        for name in ("quiet_start", "quiet_end"):
            value = getattr(self, name)
            # An aware time would make comparisons with local wall clocks raise later.
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"TenantPolicy.{name} must be a naive time, got {value!r}")
        if self.timezone_mode not in TIMEZONE_MODES:
            raise ValueError(
                f"TenantPolicy.timezone_mode must be one of {sorted(TIMEZONE_MODES)}, "
                f"got {self.timezone_mode!r}"
            )
        if get_zone(self.store_timezone) is None:
            raise ValueError(
                f"TenantPolicy.store_timezone must be an IANA zone, got {self.store_timezone!r}"
            )
        if (
            isinstance(self.frequency_cap, bool)
            or not isinstance(self.frequency_cap, int)
            or (self.frequency_cap < 0)
        ):
            raise ValueError(
                f"TenantPolicy.frequency_cap must be an int >= 0, got {self.frequency_cap!r}"
            )
        if not isinstance(self.frequency_window, timedelta) or self.frequency_window <= timedelta(
            0
        ):
            raise ValueError(
                "TenantPolicy.frequency_window must be a positive timedelta, "
                f"got {self.frequency_window!r}"
            )
        if not isinstance(self.optout_footer, str):
            raise ValueError(
                f"TenantPolicy.optout_footer must be a string, got {self.optout_footer!r}"
            )
        # Accept any iterable of pairs for convenience, but store a frozenset (hashable).
        names = frozenset(tuple(pair) for pair in self.sender_names)
        for pair in names:
            if len(pair) != 2 or pair[0] not in CHANNELS or not isinstance(pair[1], str):
                raise ValueError(
                    f"TenantPolicy.sender_names must hold (channel, name) pairs, got {pair!r}"
                )
        object.__setattr__(self, "sender_names", names)
        waivers = frozenset(tuple(pair) for pair in self.content_waivers)
        for pair in waivers:
            if len(pair) != 2 or not all(isinstance(x, str) for x in pair):
                raise ValueError(
                    f"TenantPolicy.content_waivers must hold (rule, word) pairs, got {pair!r}"
                )
        object.__setattr__(self, "content_waivers", waivers)
        for name in ("transactional_quiet_hours", "disabled", "consent_source_line"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"TenantPolicy.{name} must be a bool, got {getattr(self, name)!r}")


@dataclass(frozen=True, slots=True)
class PolicyMessage:
    """The message being decided on, as far as the rules care."""

    phone: str
    category: str
    channel: str
    text: str = ""
    sender: str | None = None
    urgent: bool = False
    # the one reply to a STOP/START/HELP keyword: the law expects the confirmation even to a
    # number that just joined the stop-list, and even in quiet hours (it answers the person)
    confirmation: bool = False

    def __post_init__(self) -> None:
        # The phone's validity is a decision (BLOCK invalid_phone), not a construction error.
        if not isinstance(self.phone, str):
            raise ValueError(f"PolicyMessage.phone must be a string, got {self.phone!r}")
        if self.category not in CATEGORIES:
            raise ValueError(
                f"PolicyMessage.category must be one of {sorted(CATEGORIES)}, got {self.category!r}"
            )
        _require_channel("PolicyMessage.channel", self.channel, optional=False)
        if not isinstance(self.text, str):
            raise ValueError(f"PolicyMessage.text must be a string, got {self.text!r}")
        if self.sender is not None and not isinstance(self.sender, str):
            raise ValueError(f"PolicyMessage.sender must be a string or None, got {self.sender!r}")
        if not isinstance(self.urgent, bool):
            raise ValueError(f"PolicyMessage.urgent must be a bool, got {self.urgent!r}")
        if self.confirmation and self.category != "transactional":
            raise ValueError(f"a keyword confirmation is transactional, got {self.category!r}")


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    """What storage knows about the recipient, looked up before ``decide()`` is called."""

    stop_entries: tuple[StopEntry, ...] = ()
    consents: tuple[ConsentRecord, ...] = ()
    recent_marketing: tuple[datetime, ...] = ()
    explicit_timezone: str | None = None
    region: str | None = None
    numbering_timezone: str | None = None

    def __post_init__(self) -> None:
        # Lists are accepted and frozen into tuples so facts stay immutable and hashable.
        for name, kind in (("stop_entries", StopEntry), ("consents", ConsentRecord)):
            items = tuple(getattr(self, name))
            for item in items:
                if not isinstance(item, kind):
                    raise ValueError(
                        f"RecipientFacts.{name} must hold {kind.__name__} items, got {item!r}"
                    )
            object.__setattr__(self, name, items)
        sends = tuple(self.recent_marketing)
        for when in sends:
            _require_aware("RecipientFacts.recent_marketing item", when)
        object.__setattr__(self, "recent_marketing", sends)
        for name in ("explicit_timezone", "region", "numbering_timezone"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"RecipientFacts.{name} must be a string or None, got {value!r}")


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer, with the reasons and the zones it used."""

    action: str
    reasons: tuple[Reason, ...]
    not_before: datetime | None
    timezones: tuple[str, ...]
    timezone_source: str
    text: str

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(
                f"Decision.action must be one of {sorted(ACTIONS)}, got {self.action!r}"
            )
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "timezones", tuple(self.timezones))
        if self.action != SEND and (not self.reasons or self.reasons[0].code in INFO_REASONS):
            raise ValueError(
                f"Decision {self.action!r} needs a deciding reason first, got {self.reasons!r}"
            )
        if self.not_before is not None:
            _require_aware("Decision.not_before", self.not_before)
        if self.timezone_source not in TIMEZONE_SOURCES:
            raise ValueError(
                f"Decision.timezone_source must be one of {sorted(TIMEZONE_SOURCES)}, "
                f"got {self.timezone_source!r}"
            )

    @property
    def primary_reason(self) -> str | None:
        """The deciding reason's code; None for SEND (its reasons are only informational)."""
        if self.action == SEND or not self.reasons:
            return None
        return self.reasons[0].code

    def to_dict(self) -> dict[str, Any]:
        """The shape ``POST /v1/policy/explain`` answers with."""
        return {
            "decision": self.action,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "timezones": list(self.timezones),
            "timezone_source": self.timezone_source,
        }
