"""Loading a tenant's templates and flows from a JSON document (the `relay flows load` file,
and the default flows of a new demo tenant)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.content.templates import TemplateRenderError, check_template
from relay.errors import RelayError
from relay.storage.models import Flow, Survey, Template, Tenant
from relay.tenancy.tenant_cache import TENANT_CONFIG
from shared.events import CATEGORIES, CHANNELS, EVENT_TYPES

FLOW_FIELDS = (
    "trigger",
    "conditions",
    "template",
    "category",
    "channels",
    "delay_seconds",
    "cancel_on",
    "cancel_key",
    "urgent",
    "enabled",
)


def _bad(path: str, message: str) -> RelayError:
    return RelayError("invalid_flows", f"{path}: {message}", 422, {path: [message]})


def save_template(session: Session, tenant: Tenant, spec: dict[str, Any], path: str) -> Template:
    """Add a template, or a new version of it when its content changed."""
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise _bad(f"{path}.name", "required")
    if spec.get("category") not in CATEGORIES:
        raise _bad(f"{path}.category", f"one of {list(CATEGORIES)}")
    if not spec.get("sms_text") and not spec.get("viber_text"):
        raise _bad(f"{path}.sms_text", "sms_text or viber_text required")
    for key in ("sms_text", "viber_text"):
        if spec.get(key):
            try:
                check_template(spec[key])
            except TemplateRenderError as exc:
                raise _bad(f"{path}.{key}", str(exc)) from exc
    latest = session.scalar(
        select(Template)
        .where(Template.tenant_id == tenant.id, Template.name == name)
        .order_by(Template.version.desc())
        .limit(1)
    )
    content = {k: spec.get(k) for k in ("category", "sms_text", "viber_text", "viber", "sender")}
    if latest is not None and all(getattr(latest, k) == v for k, v in content.items()):
        return latest
    version = (
        session.scalar(
            select(func.max(Template.version)).where(
                Template.tenant_id == tenant.id, Template.name == name
            )
        )
        or 0
    ) + 1
    tpl = Template(tenant_id=tenant.id, name=name, version=version, **content)
    session.add(tpl)
    session.flush()
    return tpl


def save_flow(session: Session, tenant: Tenant, spec: dict[str, Any], path: str) -> Flow:
    """Create or replace a flow by name."""
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise _bad(f"{path}.name", "required")
    if spec.get("trigger") not in EVENT_TYPES:
        raise _bad(f"{path}.trigger", f"one of {list(EVENT_TYPES)}")
    if spec.get("category") not in CATEGORIES:
        raise _bad(f"{path}.category", f"one of {list(CATEGORIES)}")
    channels = spec.get("channels") or ["sms"]
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
        raise _bad(f"{path}.channels", f"a list of {list(CHANNELS)}")
    for event_type in spec.get("cancel_on") or []:
        if event_type not in EVENT_TYPES:
            raise _bad(f"{path}.cancel_on", f"unknown event type {event_type!r}")
    delay = spec.get("delay_seconds", 0)
    if not isinstance(delay, int) or delay < 0:
        raise _bad(f"{path}.delay_seconds", "a whole number ≥ 0")
    survey_id = None
    if spec.get("survey"):
        survey_id = session.scalar(
            select(Survey.id).where(Survey.tenant_id == tenant.id, Survey.name == spec["survey"])
        )
        if survey_id is None:
            raise _bad(f"{path}.survey", f"no survey named {spec['survey']!r}")
    flow = session.scalar(select(Flow).where(Flow.tenant_id == tenant.id, Flow.name == name))
    if flow is None:
        flow = Flow(tenant_id=tenant.id, name=name)
        session.add(flow)
    values = {
        "trigger": spec["trigger"],
        "conditions": spec.get("conditions") or {},
        "template": spec.get("template") or name,
        "category": spec["category"],
        "channels": channels,
        "delay_seconds": delay,
        "cancel_on": spec.get("cancel_on") or [],
        "cancel_key": spec.get("cancel_key"),
        "urgent": bool(spec.get("urgent", False)),
        "enabled": bool(spec.get("enabled", True)),
        "survey_id": survey_id,
    }
    for key, value in values.items():
        setattr(flow, key, value)
    session.flush()
    return flow


def load_flows(session: Session, tenant: Tenant, doc: Any) -> dict[str, int]:
    """Apply a {"templates": [...], "flows": [...]} document; all or nothing."""
    if not isinstance(doc, dict):
        raise _bad("$", "the document must be an object with 'templates' and 'flows'")
    templates = doc.get("templates") or []
    flows = doc.get("flows") or []
    for i, spec in enumerate(templates):
        save_template(session, tenant, spec, f"templates[{i}]")
    names = {t["name"] for t in templates} | set(
        session.scalars(select(Template.name).where(Template.tenant_id == tenant.id))
    )
    for i, spec in enumerate(flows):
        flow = save_flow(session, tenant, spec, f"flows[{i}]")
        if flow.template not in names:
            raise _bad(f"flows[{i}].template", f"no template named {flow.template!r}")
    TENANT_CONFIG.invalidate(tenant.id)
    return {"templates": len(templates), "flows": len(flows)}


def default_flows() -> dict[str, Any]:
    """The editable default flows every new store starts with."""
    text = resources.files("relay").joinpath("data/default_flows.json").read_text()
    return cast(dict[str, Any], json.loads(text))  # the packaged file holds one JSON object
