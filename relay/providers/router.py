"""Choosing a tenant's gateway: its ordered list, with failover shared through Redis.

When a gateway fails transiently `threshold` times within `window` seconds it is marked down
for `cooldown` seconds and traffic moves to the next one; after the cool-down it is tried again,
so traffic comes back by itself when it recovers. State lives in Redis, so every worker agrees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.adapters.crypto import SecretBox
from relay.providers import build_provider
from relay.providers.base import Provider
from relay.storage.models import Provider as ProviderRow
from relay.storage.models import TenantProvider

DEFAULT_SANDBOX = "sandbox"


@dataclass
class ProviderHealth:
    """Failure counting and cool-down per provider name, in Redis."""

    redis: Redis
    threshold: int = 5
    window: int = 60
    cooldown: int = 30

    def is_down(self, name: str) -> bool:
        """True while the provider is cooling down after repeated transient failures."""
        return bool(self.redis.exists(f"relay:provider:{name}:down"))

    def failed(self, name: str) -> None:
        """Count a transient failure; past the threshold, mark the provider down."""
        key = f"relay:provider:{name}:fails"
        pipe = self.redis.pipeline()
        # SET NX EX then INCR: the window starts at the first failure (EXPIRE NX needs Redis 7)
        pipe.set(key, 0, ex=self.window, nx=True)
        pipe.incr(key)
        count = pipe.execute()[1]
        if count >= self.threshold:
            self.redis.set(f"relay:provider:{name}:down", int(time.time()), ex=self.cooldown)
            self.redis.delete(key)

    def succeeded(self, name: str) -> None:
        """A success clears the failure count."""
        self.redis.delete(f"relay:provider:{name}:fails")


class ProviderRouter:
    """Builds provider instances (cached per process) and picks one per tenant and channel."""

    def __init__(
        self,
        redis: Redis,
        secrets: SecretBox,
        public_url: str,
        hooks: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.redis = redis
        # provider name → extra context (on_receipts / on_inbound for push gateways like SMPP)
        self.hooks = hooks
        self.secrets = secrets
        self.public_url = public_url.rstrip("/")
        self.health = ProviderHealth(redis)
        self._cache: dict[tuple[str, str], Provider] = {}

    def _instance(self, row: ProviderRow) -> Provider:
        key = (row.name, row.config_encrypted)
        if key not in self._cache:
            for old in [k for k in self._cache if k[0] == row.name]:
                # the config changed: let go of the old instance (an SMPP bind, a session)
                getattr(self._cache.pop(old), "close", lambda: None)()
            context = {"redis": self.redis, **(self.hooks(row.name) if self.hooks else {})}
            config = self.secrets.open(row.config_encrypted)
            rate = config.pop("rate", None)  # the relay's own limit, not the adapter's business
            provider = build_provider(
                row.name,
                row.type,
                config,
                callback_base=f"{self.public_url}/callbacks/{row.name}/{row.callback_token}",
                context=context,
            )
            provider.rate = rate
            self._cache[key] = provider
        return self._cache[key]

    def close(self) -> None:
        """Close every provider instance (unbind SMPP links) at shutdown."""
        for provider in self._cache.values():
            getattr(provider, "close", lambda: None)()
        self._cache.clear()

    def sandbox(self) -> Provider:
        """The built-in sandbox, used by tenants with no gateway configured."""
        key = (DEFAULT_SANDBOX, "")
        if key not in self._cache:
            self._cache[key] = build_provider(
                DEFAULT_SANDBOX, "sandbox", {}, context={"redis": self.redis}
            )
        return self._cache[key]

    def chain(self, session: Session, tenant_id: str) -> list[Provider]:
        """The tenant's providers in preference order (the sandbox when none is set)."""
        rows = (
            session.execute(
                select(ProviderRow)
                .join(TenantProvider, TenantProvider.provider_id == ProviderRow.id)
                .where(TenantProvider.tenant_id == tenant_id, ProviderRow.enabled.is_(True))
                .order_by(TenantProvider.position)
            )
            .scalars()
            .all()
        )
        return [self._instance(r) for r in rows] or [self.sandbox()]

    def pick(self, session: Session, tenant_id: str, channel: str) -> Provider | None:
        """The first provider for `channel` that is not cooling down (else the first at all)."""
        return self.pick_from(self.chain(session, tenant_id), channel)

    def pick_from(self, chain: list[Provider], channel: str) -> Provider | None:
        """`pick` over a chain already loaded (one query per batch, not per message)."""
        able = [p for p in chain if channel in p.channels]
        if not able:
            return None
        for provider in able:
            if not self.health.is_down(provider.name):
                return provider
        return able[0]

    def by_name(self, session: Session, name: str) -> tuple[ProviderRow, Provider] | None:
        """A configured provider and its row, for callbacks."""
        if name == DEFAULT_SANDBOX:
            row = session.scalar(select(ProviderRow).where(ProviderRow.name == name))
            return (row, self._instance(row)) if row else None
        row = session.scalar(select(ProviderRow).where(ProviderRow.name == name))
        return (row, self._instance(row)) if row else None

    def describe(self, row: ProviderRow) -> dict[str, Any]:
        """A provider's public view: secrets masked."""
        config = self.secrets.open(row.config_encrypted)
        hidden = set(self._instance(row).secret_fields())
        return {
            "name": row.name,
            "type": row.type,
            "enabled": row.enabled,
            "config": {k: ("***" if k in hidden else v) for k, v in config.items()},
        }
