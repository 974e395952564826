"""Rules about the recipient and the tenant: each a small named predicate.

The common signature is ``(message, facts, policy, now) -> Reason | None``: a Reason when
the rule stops the message, None when it has nothing against it. ``quiet_hours`` also
takes the zones, resolved once by ``decide()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from functools import lru_cache

from relay.policy.model import (
    FREQUENCY_CAP,
    INVALID_PHONE,
    MARKETING,
    NO_CONSENT,
    QUIET_HOURS,
    REVIEW_HOLD,
    STOP_LIST,
    TENANT_DISABLED,
    TRANSACTIONAL,
    ConsentRecord,
    PolicyMessage,
    Reason,
    RecipientFacts,
    TenantPolicy,
)
from relay.policy.quiet_hours import first_quiet_zones, next_allowed
from relay.policy.zones import phone_info

__all__ = [
    "Rule",
    "consent_missing",
    "current_consent",
    "frequency_capped",
    "invalid_phone",
    "quiet_hours",
    "quiet_hours_apply",
    "quiet_reason",
    "quiet_zones_reason",
    "stop_listed",
    "tenant_disabled",
]

Rule = Callable[[PolicyMessage, RecipientFacts, TenantPolicy, datetime], Reason | None]


@lru_cache(maxsize=256)
def _window_text(start: time, end: time) -> str:
    return f"{start.strftime('%H:%M')}-{end.strftime('%H:%M')}"


def tenant_disabled(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """A disabled tenant sends nothing at all."""
    if policy.disabled:
        return Reason(TENANT_DISABLED, "the tenant is disabled")
    return None


def invalid_phone(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """The number must parse as an international number of a possible length."""
    if phone_info(message.phone) is None:
        return Reason(INVALID_PHONE, f"not a valid international number: {message.phone!r}")
    return None


def stop_listed(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """A stop-list entry for this channel or for all channels blocks every category.

    Lifting entries (START) is the storage layer's job: an entry present here is in force.
    The single confirmation of a keyword reply is the one exception.
    """
    if message.confirmation:
        return None
    for entry in facts.stop_entries:
        if entry.source == REVIEW_HOLD:
            if message.category == MARKETING and entry.channel in (None, message.channel):
                return Reason(
                    STOP_LIST,
                    "marketing held since "
                    f"{entry.created_at.isoformat()}: a reply awaits an opt-out review",
                )
            continue
        if entry.channel is None or entry.channel == message.channel:
            scope = entry.channel or "all channels"
            return Reason(
                STOP_LIST,
                f"on the stop-list for {scope} since {entry.created_at.isoformat()} "
                f"({entry.source})",
            )
    return None


def current_consent(consents: Sequence[ConsentRecord], channel: str) -> ConsentRecord | None:
    """The latest ledger record that applies to ``channel`` (its own or all-channel).

    On a tie in time a revoke wins: when in doubt, do not advertise.
    """
    # max() over (recorded_at, not granted), the first of equals kept, in one plain pass
    best: ConsentRecord | None = None
    for record in consents:
        if record.channel is not None and record.channel != channel:
            continue
        if best is None:
            best = record
            continue
        when, best_when = record.recorded_at, best.recorded_at
        if when > best_when or (when == best_when and best.granted and not record.granted):
            best = record
    return best


def consent_missing(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """Marketing needs a current grant; transactional messages need no advertising consent."""
    if message.category != MARKETING:
        return None
    record = current_consent(facts.consents, message.channel)
    if record is None:
        return _no_consent(message.channel)
    if not record.granted:
        return Reason(
            NO_CONSENT,
            f"marketing consent revoked {record.recorded_at.isoformat()} ({record.source})",
        )
    return None


def frequency_capped(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """At most ``frequency_cap`` marketing messages per rolling ``frequency_window``.

    Counts the sends in ``(now - window, now]``; one exactly a window old has dropped out.
    """
    if message.category != MARKETING:
        return None
    since = now - policy.frequency_window
    count = 0
    for sent in facts.recent_marketing:
        if since < sent <= now:
            count += 1
    if count >= policy.frequency_cap:
        return _frequency_reason(count, policy.frequency_cap, policy.frequency_window)
    return None


# The reasons below are the same few values for every recipient; built once each.
@lru_cache(maxsize=64)
def _no_consent(channel: str) -> Reason:
    return Reason(NO_CONSENT, f"no marketing consent on record for {channel}")


@lru_cache(maxsize=1024)
def _frequency_reason(count: int, cap: int, window: timedelta) -> Reason:
    days = window.total_seconds() / 86400
    return Reason(
        FREQUENCY_CAP, f"{count} marketing messages in the last {days:g} days (cap {cap})"
    )


def quiet_hours_apply(message: PolicyMessage, policy: TenantPolicy) -> bool:
    """Marketing always obeys quiet hours; transactional follows the tenant's setting,
    and an urgent transactional message (a confirmation code, say) skips them."""
    if message.category == TRANSACTIONAL:
        return policy.transactional_quiet_hours and not message.urgent
    return True


def quiet_reason(now: datetime, zones: Sequence[str], policy: TenantPolicy) -> Reason:
    """The DEFER reason naming the zones in which ``now`` is inside quiet hours."""
    quiet = first_quiet_zones(now, zones, policy.quiet_start, policy.quiet_end)
    return quiet_zones_reason(tuple(quiet), policy.quiet_start, policy.quiet_end)


@lru_cache(maxsize=4096)
def quiet_zones_reason(quiet: tuple[str, ...], start: time, end: time) -> Reason:
    """The DEFER reason for the window ``start``–``end`` when ``quiet`` are the zones inside
    it (built once per distinct set: every deferred recipient of a night shares a few)."""
    shown = ", ".join(quiet[:3]) + (f" (+{len(quiet) - 3} more)" if len(quiet) > 3 else "")
    return Reason(QUIET_HOURS, f"quiet hours {_window_text(start, end)} in {shown}")


def quiet_hours(
    message: PolicyMessage,
    facts: RecipientFacts,
    policy: TenantPolicy,
    now: datetime,
    zones: Sequence[str],
) -> Reason | None:
    """DEFER reason when ``now`` is inside quiet hours in any of the recipient's zones."""
    if not quiet_hours_apply(message, policy):
        return None
    if next_allowed(now, zones, policy.quiet_start, policy.quiet_end) is now:
        return None
    return quiet_reason(now, zones, policy)
