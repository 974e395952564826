"""Rules about what is sent and from whom: opt-out wording and sender names.

Each rule has the common signature ``(message, facts, policy, now) -> Reason | None`` so
``decide()`` can run them in a row; ``text_to_send`` is the one transformation.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from relay.policy.model import (
    CONTENT_RULE,
    MARKETING,
    SENDER_NOT_ALLOWED,
    PolicyMessage,
    Reason,
    RecipientFacts,
    TenantPolicy,
)

__all__ = [
    "content_rule",
    "has_optout_wording",
    "missing_optout",
    "sender_name_problem",
    "sender_not_allowed",
    "text_to_send",
]

# Words that tell the recipient how to opt out. Whole words for STOP/СТОП so that
# "NONSTOP" or "стопка" do not count; any form of "отписаться/отписка" does.
_OPTOUT = re.compile(r"\b(?:stop|стоп)\b|отпис|unsubscribe", re.IGNORECASE)

# SMS alphanumeric sender: up to 11 of Latin letters, digits, space . - _ and at least one
# letter (an all-digit name is a numeric sender, which has its own rule).
_SMS_ALPHA = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9 ._\-]{1,11}")
# SMS numeric sender: a phone number or short code, optional "+", at most 15 digits (E.164).
_SMS_NUMERIC = re.compile(r"\+?[0-9]{1,15}")
# Viber sender: up to 20 Latin/Cyrillic letters, digits, spaces and common punctuation,
# with at least one letter or digit.
_VIBER = re.compile(r"(?=.*[0-9A-Za-zА-Яа-яЁё])[0-9A-Za-zА-Яа-яЁё .,:;!?&'\"«»()+/@#№_\-]{1,20}")


def has_optout_wording(text: str) -> bool:
    """True when the text already tells how to opt out (STOP, СТОП, отписаться …)."""
    return _OPTOUT.search(text) is not None


# The rules below read the same few texts and sender names for every recipient of a
# campaign, so what depends on the text or the name alone is cached (bounded: texts may be
# personalised). See docs/architecture.md, 'Caches on the hot path'.


@lru_cache(maxsize=4096)
def _optout_wording(text: str) -> bool:
    return has_optout_wording(text)


@lru_cache(maxsize=4096)
def _with_footer(text: str, optout_footer: str) -> str:
    footer = optout_footer.strip()
    # The footer itself may be the opt-out wording; never append it twice, even when a
    # re-check in the worker sees the text the first decision produced.
    if not footer or _optout_wording(text) or footer in text:
        return text
    body = text.rstrip()
    return f"{body}\n{footer}" if body else footer


def text_to_send(message: PolicyMessage, policy: TenantPolicy) -> str:
    """The text with the tenant's opt-out footer appended when a marketing text lacks one."""
    if message.category != MARKETING:
        return message.text
    return _with_footer(message.text, policy.optout_footer)


def content_rule(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """Marketing must tell how to opt out: refuse when the text has no opt-out wording and
    the tenant configured no footer to add."""
    return missing_optout(message, policy)


def missing_optout(message: PolicyMessage, policy: TenantPolicy) -> Reason | None:
    """`content_rule` without the recipient and the time, which it does not need (a template
    is checked before it has either)."""
    if message.category != MARKETING or _optout_wording(message.text):
        return None
    if policy.optout_footer.strip():
        return None  # text_to_send appends it
    return Reason(
        CONTENT_RULE,
        "marketing text has no opt-out wording (STOP/СТОП/отписаться) and no footer is set",
    )


def sender_name_problem(channel: str, sender: str) -> str | None:
    """Why ``sender`` is not a valid sender name on ``channel``, or None when it is."""
    if sender != sender.strip() or not sender:
        return f"sender name {sender!r} must not be empty or start/end with a space"
    if channel == "sms":
        if _SMS_NUMERIC.fullmatch(sender) or _SMS_ALPHA.fullmatch(sender):
            return None
        return (
            f"SMS sender name {sender!r} must be at most 11 Latin letters, digits, space, "
            "'.', '-', '_' (or a number of at most 15 digits)"
        )
    if _VIBER.fullmatch(sender):
        return None
    return (
        f"Viber sender name {sender!r} must be at most 20 Latin or Cyrillic letters, "
        "digits, spaces and punctuation"
    )


def sender_not_allowed(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """The sender must be well-formed for the channel and, when the tenant has registered
    names, one of those registered for this channel."""
    return _sender_reason(message.channel, message.sender, policy.sender_names)


@lru_cache(maxsize=4096)
def _sender_reason(
    channel: str, sender: str | None, sender_names: frozenset[tuple[str, str]]
) -> Reason | None:
    if sender is not None:
        problem = sender_name_problem(channel, sender)
        if problem is not None:
            return Reason(SENDER_NOT_ALLOWED, problem)
    if sender_names and (channel, sender) not in sender_names:
        registered = sorted(name for each, name in sender_names if each == channel)
        return Reason(
            SENDER_NOT_ALLOWED,
            f"sender {sender!r} is not registered for {channel}"
            f" (registered: {', '.join(registered) or 'none'})",
        )
    return None
