"""Shared builders for the policy tests: plain facts, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from relay.policy import PolicyMessage, RecipientFacts, TenantPolicy


def utc(*args: int) -> datetime:
    """An aware UTC datetime: utc(2026, 1, 15, 21, 30)."""
    return datetime(*args, tzinfo=UTC)


DEFAULT_POLICY = TenantPolicy()
NO_FACTS = RecipientFacts()


def message(
    phone: str = "+79161234567",
    category: str = "transactional",
    channel: str = "sms",
    text: str = "Заказ 727 принят",
    **kwargs: object,
) -> PolicyMessage:
    """A message with sensible defaults."""
    return PolicyMessage(phone=phone, category=category, channel=channel, text=text, **kwargs)  # type: ignore[arg-type]
