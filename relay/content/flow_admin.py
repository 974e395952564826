"""Flows through the admin API: event + conditions → template, category, channel plan, delay,
cancel-on events, urgency. `flowdefs.save_flow` stores; this module adds the rules that keep a
flow sendable (its template exists, its plan makes sense) and invalidates the intake cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from relay.content.flowdefs import FLOW_FIELDS, save_flow
from relay.errors import RelayError
from relay.storage.models import Flow, Survey, Template, Tenant
from relay.tenancy.tenant_cache import TENANT_CONFIG


def flow_view(flow: Flow) -> dict[str, Any]:
    """A flow as the API shows it (`survey`: the name of the survey it asks, or null)."""
    survey = None
    session = object_session(flow)
    if flow.survey_id is not None and session is not None:
        survey = session.scalar(select(Survey.name).where(Survey.id == flow.survey_id))
    return {
        "id": flow.id,
        "name": flow.name,
        **{k: getattr(flow, k) for k in FLOW_FIELDS},
        "survey": survey,
    }


def find_flow(session: Session, tenant_id: str, name: str) -> Flow:
    """One of the tenant's flows by name; 404 `flow_not_found`."""
    flow = session.scalar(select(Flow).where(Flow.tenant_id == tenant_id, Flow.name == name))
    if flow is None:
        raise RelayError("flow_not_found", f"no flow {name!r}", 404)
    return flow


def _bad(field: str, message: str) -> RelayError:
    return RelayError("invalid_flow", f"{field}: {message}", 422, {field: [message]})


def check_flow(session: Session, tenant_id: str, spec: dict[str, Any]) -> None:
    """Rules across fields and tables that the schema cannot see."""
    channels = spec.get("channels") or ["sms"]
    if len(set(channels)) != len(channels):
        raise _bad("channels", "each channel once, in the order to try them")
    if spec["category"] == "marketing" and spec.get("urgent"):
        raise _bad("urgent", "marketing always waits for quiet hours to end; only transactional")
    if spec.get("cancel_key") and not spec.get("cancel_on"):
        raise _bad("cancel_key", "cancel_key needs cancel_on events")
    if spec["trigger"] in (spec.get("cancel_on") or []):
        raise _bad("cancel_on", "a flow cannot be cancelled by its own trigger")
    if spec.get("survey"):
        known = session.scalar(
            select(Survey.id).where(Survey.tenant_id == tenant_id, Survey.name == spec["survey"])
        )
        if known is None:
            raise _bad("survey", f"no survey named {spec['survey']!r}; POST /v1/surveys first")
    template = spec.get("template") or spec["name"]
    tpl = session.scalar(
        select(Template)
        .where(Template.tenant_id == tenant_id, Template.name == template)
        .order_by(Template.version.desc())
        .limit(1)
    )
    if tpl is None:
        raise _bad("template", f"no template named {template!r}")
    if tpl.category != spec["category"]:
        raise _bad("category", f"template {template!r} is {tpl.category}; the flow must match it")
    if "viber" in channels and not (tpl.viber_text or tpl.sms_text):
        raise _bad("channels", f"template {template!r} has no text for viber")
    if channels[0] == "sms" and not tpl.sms_text:
        raise _bad("channels", f"template {template!r} has no sms_text")


def save(
    session: Session, tenant: Tenant, name: str, spec: dict[str, Any], *, create: bool
) -> tuple[Flow, dict[str, Any] | None]:
    """Create (POST, the name must be new) or replace (PUT, the name must exist) a flow;
    returns the flow and its view before the change."""
    existing = session.scalar(select(Flow).where(Flow.tenant_id == tenant.id, Flow.name == name))
    if create and existing is not None:
        raise RelayError(
            "flow_exists", f"a flow {name!r} exists; PUT to replace it", 409, {"name": ["taken"]}
        )
    if not create and existing is None:
        raise RelayError("flow_not_found", f"no flow {name!r}", 404)
    before = flow_view(existing) if existing is not None else None
    spec = {**spec, "name": name}
    check_flow(session, tenant.id, spec)
    flow = save_flow(session, tenant, spec, "flow")
    TENANT_CONFIG.invalidate(tenant.id)
    return flow, before


def delete_flow(session: Session, tenant_id: str, name: str) -> dict[str, Any]:
    """Delete a flow (its messages keep their text; their flow link becomes empty)."""
    flow = find_flow(session, tenant_id, name)
    before = flow_view(flow)
    session.delete(flow)
    session.flush()
    TENANT_CONFIG.invalidate(tenant_id)
    return before


def flows_of(session: Session, tenant_id: str) -> list[Flow]:
    """The tenant's flows, by name."""
    return list(
        session.scalars(select(Flow).where(Flow.tenant_id == tenant_id).order_by(Flow.name))
    )


def set_enabled(
    session: Session, tenant: Tenant, name: str, enabled: bool
) -> tuple[Flow, dict[str, Any]]:
    """Switch a flow on or off (the rest of it unchanged); returns the flow and its view before."""
    flow = find_flow(session, tenant.id, name)
    spec = {k: v for k, v in flow_view(flow).items() if k not in ("id", "name")}
    spec["enabled"] = bool(enabled)
    saved, before = save(session, tenant, name, spec, create=False)
    return saved, before or {}
