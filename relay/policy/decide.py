"""``decide()``: the one place where the named rules are combined into a decision."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

from relay.policy.advertising import advertising_content
from relay.policy.consent_line import with_consent_line
from relay.policy.content import content_rule, sender_not_allowed, text_to_send
from relay.policy.model import (
    BLOCK,
    CONSENT_SOURCE_ADDED,
    DEFER,
    FOOTER_APPENDED,
    SEND,
    TIMEZONE_FALLBACK,
    Decision,
    PolicyMessage,
    Reason,
    RecipientFacts,
    TenantPolicy,
)
from relay.policy.quiet_hours import HORIZON, QuietSpan, next_allowed, quiet_span
from relay.policy.rules import (
    Rule,
    consent_missing,
    frequency_capped,
    invalid_phone,
    quiet_hours_apply,
    quiet_reason,
    quiet_zones_reason,
    stop_listed,
    tenant_disabled,
)
from relay.policy.zones import resolve_timezones

__all__ = ["BLOCK_RULES", "decide", "next_send_time"]

# Order matters only for which reason is reported first: the cheapest and the most
# final reasons come first (a disabled tenant or a STOP outweighs a missing footer).
BLOCK_RULES: tuple[Rule, ...] = (
    tenant_disabled,
    invalid_phone,
    stop_listed,
    sender_not_allowed,
    consent_missing,
    frequency_capped,
    content_rule,
    advertising_content,
)

_FOOTER_NOTE = Reason(FOOTER_APPENDED, "the tenant's opt-out footer was appended")
_CONSENT_NOTE = Reason(CONSENT_SOURCE_ADDED, "the consent's source and date were added")
_HORIZON_SECONDS = HORIZON.total_seconds()


def decide(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Decision:
    """Decide SEND, DEFER (with ``not_before``) or BLOCK for one message at ``now``.

    ``now`` must be timezone-aware (ValueError otherwise). Blocking rules run first, in
    the order of ``BLOCK_RULES``; then quiet hours may defer the message to the first
    minute allowed in every one of the recipient's zones. The returned ``text`` carries the
    opt-out footer when the tenant's rules added one.
    """
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    zones, source = resolve_timezones(message.phone, facts, policy)
    for rule in BLOCK_RULES:
        reason = rule(message, facts, policy, now)
        if reason is not None:
            return _blocked(reason, zones, source, message.text)

    text = text_to_send(message, policy)
    notes: tuple[Reason, ...] = ()
    if text != message.text:
        notes = (_FOOTER_NOTE,)
    sourced = with_consent_line(text, message, facts, policy)
    if sourced != text:
        text = sourced
        notes += (_CONSENT_NOTE,)
    if not quiet_hours_apply(message, policy):
        return _sent(notes, zones, source, text)

    start, end = policy.quiet_start, policy.quiet_end
    stamp = now.timestamp()
    span = quiet_span(stamp, zones, start, end)
    if span is None:
        return _sent(notes, zones, source, text)
    if span.until <= stamp + _HORIZON_SECONDS:
        return _deferred(span, start, end, notes, zones, source, text)
    # Strict mode over many zones with a wide window can leave no common minute at all;
    # rather than holding the message forever, fall back to the store's zone.
    notes += (
        Reason(
            TIMEZONE_FALLBACK,
            f"no minute within {HORIZON.days} days is outside quiet hours in all "
            f"{len(zones)} zones; using the store zone {policy.store_timezone}",
        ),
    )
    zones, source = (policy.store_timezone,), "store"
    not_before = next_allowed(now, zones, start, end)
    if not_before is now:
        return Decision(SEND, notes, None, zones, source, text)
    return Decision(
        DEFER, (quiet_reason(now, zones, policy), *notes), not_before, zones, source, text
    )


# Decisions are frozen values. Built from these arguments alone, one object per distinct
# set of them serves every recipient they apply to: the zones are those of a numbering
# range, the texts those of a campaign, the deferrals those of one stretch of the night
# (docs/architecture.md, 'Caches on the hot path'). Bounded, as texts may be personalised.
@lru_cache(maxsize=4096)
def _blocked(reason: Reason, zones: tuple[str, ...], source: str, text: str) -> Decision:
    return Decision(BLOCK, (reason,), None, zones, source, text)


@lru_cache(maxsize=4096)
def _sent(notes: tuple[Reason, ...], zones: tuple[str, ...], source: str, text: str) -> Decision:
    return Decision(SEND, notes, None, zones, source, text)


@lru_cache(maxsize=4096)
def _deferred(
    span: QuietSpan,
    start: time,
    end: time,
    notes: tuple[Reason, ...],
    zones: tuple[str, ...],
    source: str,
    text: str,
) -> Decision:
    reason = quiet_zones_reason(span.zones, start, end)
    return Decision(DEFER, (reason, *notes), span.not_before, zones, source, text)


def next_send_time(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> datetime | None:
    """When the message may go: ``now`` for SEND, ``not_before`` for DEFER, None for BLOCK."""
    decision = decide(message, facts, policy, now)
    if decision.action == SEND:
        return now
    return decision.not_before if decision.action == DEFER else None
