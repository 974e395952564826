"""The HTTP API: one module per thing it serves, each with its own blueprint.

The helpers every module shares (who may call, body and query loading, the one list shape,
errors, audit, commit) are in relay.api.http; schemas in relay.api.schemas.<module>; route
documentation in relay.api.spec, turned into /openapi.json by relay.api.openapi.
"""

from __future__ import annotations

from relay.api import (
    audit,
    books,
    cabinet,
    callbacks,
    campaign_results,
    campaigns,
    compliance,
    consents,
    erasures,
    events,
    flows,
    health,
    imports,
    inbound,
    keys,
    links,
    messages,
    metrics,
    numbers,
    openapi,
    optout_reviews,
    policy,
    providers,
    reports,
    senders,
    settings,
    stoplist,
    surveys,
    templates,
    tenants,
)

MODULES = (
    events,
    metrics,
    messages,
    policy,
    stoplist,
    consents,
    compliance,
    erasures,
    books,
    imports,
    campaigns,
    campaign_results,
    templates,
    flows,
    reports,
    inbound,
    optout_reviews,
    surveys,
    numbers,
    keys,
    settings,
    senders,
    audit,
    tenants,
    providers,
    cabinet,
    callbacks,
    health,
    links,
    openapi,
)

__all__ = ["MODULES"]
