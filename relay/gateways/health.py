"""A tenant's gateways as the router sees them now: preferred first, and whether each is
cooling down after repeated failures (relay/providers/router.py, shared through Redis)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def tenant_gateways(rt: Any, session: Session, tenant_id: str) -> list[dict[str, Any]]:
    """[{"name", "type", "channels", "down", "sandbox"}] in the tenant's preference order."""
    out = []
    for provider in rt.providers.chain(session, tenant_id):
        out.append(
            {
                "name": provider.name,
                "type": provider.type,
                "channels": sorted(provider.channels),
                "down": rt.providers.health.is_down(provider.name),
                "sandbox": provider.type == "sandbox",
            }
        )
    return out
