"""The growth work of the worker's periodic loop: queued clicks into the database, then new
orders credited (clicks first, so an order sees the clicks made before it)."""

from __future__ import annotations

from dataclasses import dataclass

from relay.growth.attribution import attribute_all
from relay.growth.clicks import persist_clicks
from relay.runtime import Runtime


@dataclass(frozen=True, slots=True)
class GrowthReport:
    """What one tick did."""

    clicks: int
    attributed: int


def growth_tick(rt: Runtime) -> GrowthReport:
    """Persist queued clicks and credit new orders; safe to run in several workers at once
    (clicks are unique per link, client and minute; orders per order key)."""
    with rt.session() as session:
        clicks = persist_clicks(rt.redis, session)
        attributed = attribute_all(session, rt.now())
    return GrowthReport(clicks, attributed)
