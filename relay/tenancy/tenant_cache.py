"""A short-lived per-process cache of what intake reads for every event of a tenant.

Flows, templates and sender names change a few times a day but were read on every event; a
5-second cache removes those round trips from the hot path. A change made in this process is
visible at once (`invalidate`); other processes see it within TTL seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from relay.storage.models import Flow, SenderName, Template

TTL_SECONDS = 5.0


def snapshot(row: Any) -> SimpleNamespace:
    """A plain, read-only copy of a row's columns, safe to share between threads."""
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs})


@dataclass(frozen=True)
class TenantConfig:
    """Flows (in id order), newest template per name, active sender names."""

    flows: tuple[SimpleNamespace, ...]
    templates: dict[str, SimpleNamespace]
    sender_names: frozenset[tuple[str, str]]

    def flows_for(self, event_type: str) -> list[SimpleNamespace]:
        """Enabled flows triggered by this event type."""
        return [f for f in self.flows if f.trigger == event_type and f.enabled]

    def flows_cancelled_by(self, event_type: str) -> list[SimpleNamespace]:
        """Flows whose pending messages this event type cancels."""
        return [f for f in self.flows if event_type in (f.cancel_on or [])]


class TenantConfigCache:
    """TenantConfig per tenant id with a time-to-live."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, TenantConfig]] = {}

    def invalidate(self, tenant_id: str | None = None) -> None:
        """Forget one tenant (or all)."""
        with self._lock:
            if tenant_id is None:
                self._items.clear()
            else:
                self._items.pop(tenant_id, None)

    def get(self, session: Session, tenant_id: str) -> TenantConfig:
        """The tenant's config, from cache when fresh."""
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(tenant_id)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        config = load_config(session, tenant_id)
        with self._lock:
            self._items[tenant_id] = (now, config)
        return config


def load_config(session: Session, tenant_id: str) -> TenantConfig:
    """Read a tenant's flows, templates and sender names (three queries)."""
    flows = tuple(
        snapshot(f)
        for f in session.scalars(select(Flow).where(Flow.tenant_id == tenant_id).order_by(Flow.id))
    )
    templates: dict[str, SimpleNamespace] = {}
    for tpl in session.scalars(
        select(Template)
        .where(Template.tenant_id == tenant_id)
        .order_by(Template.name, Template.version)
    ):
        templates[tpl.name] = snapshot(tpl)  # ordered by version: the newest wins
    senders = frozenset(
        session.execute(
            select(SenderName.channel, SenderName.name).where(
                SenderName.tenant_id == tenant_id, SenderName.state == "active"
            )
        )
    )
    return TenantConfig(flows, templates, senders)


TENANT_CONFIG = TenantConfigCache()
