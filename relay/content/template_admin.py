"""Templates through the admin API: checks at save time, versions, preview.

A template is refused when it is saved, not when the first customer should have got it:
Jinja syntax, rendering with sample data, a registered and active sender, and for marketing
the policy's opt-out rule (docs/architecture.md, 'Policy') — the text rendered with the sample
data plus the tenant's footer must still fit MAX_TEMPLATE_PARTS SMS segments.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, object_session

from relay.compliance.audit import audit
from relay.content.flowdefs import save_template
from relay.content.templates import TemplateRenderError, check_template, render
from relay.errors import RelayError
from relay.growth.links import link_problems
from relay.messages.cost import price_for_tenant
from relay.messages.messages import iso
from relay.policy import CONTENT_RULE, PolicyMessage, missing_optout, text_to_send
from relay.policy.advertising import HARD, Finding, check_advertising
from relay.storage.models import Campaign, Flow, SenderName, Template, Tenant
from relay.tenancy.sender_admin import active_sender
from relay.tenancy.settings import content_waivers, merged_settings, tenant_policy
from relay.tenancy.tenant_cache import TENANT_CONFIG
from relay.tenancy.tenants import forget_cached_keys
from shared.segments import count_segments

MAX_TEMPLATE_PARTS = 6  # an SMS template (with footer) longer than this is refused
MAX_VIBER_CHARS = 1000  # Viber's own limit for a text message
NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
CONTENT = ("category", "sms_text", "viber_text", "viber", "sender")

# Data every template can be rendered with at save time: the event vocabulary (docs/architecture.md,
# 'API') plus a campaign's contact. Templates using other names must send their own `sample`.
SAMPLE_DATA: dict[str, Any] = {
    "event_id": "sample-1",
    "type": "order.status_changed",
    "source": {"platform": "woocommerce", "account": "shop.example"},
    "customer": {"phone": "+375291234567", "name": "Анна", "email": "anna@example.com"},
    "order": {
        "id": "727",
        "number": "727",
        "status": "processing",
        "previous_status": "pending",
        "total": "1290.00",
        "currency": "RUB",
        "url": "https://shop.example/orders/727",
    },
    "cart": {"id": "c-91", "total": "54.00", "currency": "RUB", "url": "https://shop.example/c/91"},
    "contact": {"name": "Анна", "phone": "+375291234567", "birthday": "1990-03-08", "fields": {}},
}


def _bad(code: str, field: str, message: str, status: int = 422) -> RelayError:
    return RelayError(code, f"{field}: {message}", status, {field: [message]})


def merged_sample(sample: dict[str, Any] | None) -> dict[str, Any]:
    """SAMPLE_DATA with the caller's sample merged in (nested objects merge key by key)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in SAMPLE_DATA.items()}
    for key, value in (sample or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def variants(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(channel, source) of each text the template carries."""
    return [(ch, spec[f"{ch}_text"]) for ch in ("sms", "viber") if spec.get(f"{ch}_text")]


def render_variants(
    tenant: Tenant, spec: dict[str, Any], data: dict[str, Any], phone: str | None = None
) -> list[dict[str, Any]]:
    """Each variant rendered with `data` as it would be sent: footer, segments, cost."""
    policy = tenant_policy(tenant, frozenset())
    out = []
    for channel, source in variants(spec):
        field = f"{channel}_text"
        try:
            text = render(source, data)
        except TemplateRenderError as exc:
            hint = "; send the missing names in 'sample'"
            raise _bad("template_render_error", field, f"{exc}{hint}") from exc
        msg = PolicyMessage(
            phone=phone or "", category=spec["category"], channel=channel, text=text
        )
        refusal = missing_optout(msg, policy)
        if refusal is not None and refusal.code == CONTENT_RULE:
            raise _bad("missing_optout", field, refusal.detail)
        final = text_to_send(msg, policy)
        findings = (
            _advertising_findings(tenant, spec, final) if spec["category"] == "marketing" else []
        )
        info = count_segments(final)
        segments = info.segments if channel == "sms" else 1
        price = price_for_tenant(tenant, phone, channel, segments)
        out.append(
            {
                "channel": channel,
                "text": final,
                "footer_appended": final != text,
                "encoding": info.encoding if channel == "sms" else None,
                "segments": segments,
                "characters": info.characters,
                "cost": str(price.cost),
                "currency": price.currency,
                "findings": [f.to_dict() for f in findings],
            }
        )
    return out


def _identity(tenant: Tenant, spec: dict[str, Any]) -> list[str]:
    """Names that tell the recipient who advertises: the tenant's and its sender names."""
    names = [tenant.name, (tenant.settings or {}).get("display_name") or ""]
    names += [spec.get("sender") or ""]
    session = object_session(tenant)
    if session is not None:
        names += list(
            session.scalars(
                select(SenderName.name).where(
                    SenderName.tenant_id == tenant.id, SenderName.state == "active"
                )
            )
        )
    return [n for n in names if n]


def _advertising_findings(tenant: Tenant, spec: dict[str, Any], text: str) -> list[Finding]:
    return list(
        check_advertising(text, _identity(tenant, spec), sender_known=bool(spec.get("sender")))
    )


def check_advertising_rules(
    tenant: Tenant, spec: dict[str, Any], estimates: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """38-FZ content rules on every variant (relay.policy.advertising). An obscene word is
    refused (422 `content_rule_violation`); a soft finding needs a justification in
    `overrides` ([{"rule", "justification"}]) unless the tenant justified those words before
    (422 `content_needs_justification`). Returns the new waivers to record."""
    already = content_waivers(merged_settings(tenant))
    given = {
        o["rule"]: o["justification"].strip()
        for o in spec.get("overrides") or []
        if isinstance(o, dict) and (o.get("justification") or "").strip()
    }
    new: list[dict[str, Any]] = []
    for est in estimates:
        field = f"{est['channel']}_text"
        findings = est.get("findings") or []
        hard = [f for f in findings if f["severity"] == HARD]
        if hard:
            words = ", ".join(w for f in hard for w in f["words"])
            raise RelayError(
                "content_rule_violation",
                f"{field}: obscene language is never allowed in advertising ({words})",
                422,
                {field: [f"{f['rule']}: {', '.join(f['words'])} — {f['detail']}" for f in hard]},
            )
        for f in findings:
            covered = (f["rule"], "*") in already or (
                f["words"] and all((f["rule"], w.lower()) in already for w in f["words"])
            )
            f["waived"] = covered or f["rule"] in given
            if covered:
                continue
            if f["rule"] not in given:
                raise RelayError(
                    "content_needs_justification",
                    f"{field}: {f['rule']}"
                    + (f" ({', '.join(f['words'])})" if f["words"] else "")
                    + f" — {f['detail']}; change the text or send overrides: "
                    f'[{{"rule": "{f["rule"]}", "justification": "…"}}]',
                    422,
                    {
                        field: [f"{f['rule']}: {', '.join(f['words'])} — {f['detail']}"],
                        "overrides": [f"a justification for {f['rule']} is required"],
                    },
                )
            f["justification"] = given[f["rule"]]
            new.append(
                {
                    "rule": f["rule"],
                    "words": [w.lower() for w in f["words"]] or ["*"],
                    "justification": given[f["rule"]],
                }
            )
    return new


def record_waivers(
    session: Session,
    tenant: Tenant,
    name: str,
    waivers: list[dict[str, Any]],
    actor: str,
    now: datetime,
) -> None:
    """Keep the justified findings with the tenant (the policy reads them at send) and audit."""
    if not waivers:
        return
    stamped = [{**w, "template": name, "actor": actor, "at": now.isoformat()} for w in waivers]
    settings = dict(tenant.settings or {})
    settings["content_waivers"] = list(settings.get("content_waivers") or []) + stamped
    tenant.settings = settings
    forget_cached_keys()  # the cached tenant of its keys carries the settings
    audit(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action="template.content_override",
        target_type="template",
        target_id=name,
        after={"waivers": stamped},
        at=now,
    )


def check_spec(
    session: Session, tenant: Tenant, spec: dict[str, Any], sample: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Refuse a template that cannot be sent as written; return its per-variant estimates."""
    if not variants(spec):
        raise _bad("validation_error", "sms_text", "sms_text or viber_text is required")
    for channel, source in variants(spec):
        try:
            check_template(source)
        except TemplateRenderError as exc:
            raise _bad("template_syntax_error", f"{channel}_text", str(exc)) from exc
        problems = link_problems(source)
        if problems:  # short links redirect only to http(s) (docs/architecture.md, 'Growth')
            raise _bad("invalid_link", f"{channel}_text", "; ".join(problems))
    sender = spec.get("sender")
    if sender:
        for channel, _ in variants(spec):
            if not active_sender(session, tenant.id, channel, sender):
                raise _bad(
                    "sender_not_registered",
                    "sender",
                    f"{sender!r} is not an active {channel} sender name of this tenant",
                )
    estimates = render_variants(tenant, spec, merged_sample(sample))
    for est in estimates:
        if est["channel"] == "sms" and est["segments"] > MAX_TEMPLATE_PARTS:
            raise _bad(
                "template_too_long",
                "sms_text",
                f"{est['segments']} SMS segments with sample data"
                f"{' and the opt-out footer' if est['footer_appended'] else ''};"
                f" at most {MAX_TEMPLATE_PARTS}",
            )
        if est["channel"] == "viber" and est["characters"] > MAX_VIBER_CHARS:
            raise _bad(
                "template_too_long",
                "viber_text",
                f"{est['characters']} characters; Viber allows {MAX_VIBER_CHARS}",
            )
    return estimates


def template_view(tpl: Template) -> dict[str, Any]:
    """One template version."""
    return {
        "name": tpl.name,
        "version": tpl.version,
        **{k: getattr(tpl, k) for k in CONTENT},
        "created_at": iso(tpl.created_at),
    }


def latest(session: Session, tenant_id: str, name: str, version: int | None = None) -> Template:
    """The newest version (or `version`) of a template; 404 `template_not_found`."""
    stmt = select(Template).where(Template.tenant_id == tenant_id, Template.name == name)
    if version is not None:
        stmt = stmt.where(Template.version == version)
    tpl = session.scalar(stmt.order_by(Template.version.desc()).limit(1))
    if tpl is None:
        raise RelayError("template_not_found", f"no template {name!r}", 404)
    return tpl


def versions(session: Session, tenant_id: str, name: str) -> list[dict[str, Any]]:
    """Every version of a template, newest first (a short list: one row per save)."""
    rows = session.scalars(
        select(Template)
        .where(Template.tenant_id == tenant_id, Template.name == name)
        .order_by(Template.version.desc())
    )
    return [{"version": t.version, "created_at": iso(t.created_at)} for t in rows]


def save(
    session: Session,
    tenant: Tenant,
    name: str,
    spec: dict[str, Any],
    *,
    create: bool,
    actor: str = "unknown",
    now: datetime | None = None,
) -> tuple[Template, Template | None, list[dict[str, Any]]]:
    """Check and save; returns (saved version, previous latest or None, estimates).

    `create` refuses an existing name (POST); otherwise the name must exist (PUT), so a key
    can never write a template into being under another tenant's name by guessing it.
    """
    exists = session.scalar(
        select(func.count()).where(Template.tenant_id == tenant.id, Template.name == name)
    )
    if create and exists:
        raise _bad("template_exists", "name", f"a template {name!r} exists; PUT a new version", 409)
    if not create and not exists:
        raise RelayError("template_not_found", f"no template {name!r}", 404)
    previous = None if create else latest(session, tenant.id, name)
    estimates = check_spec(session, tenant, spec, spec.get("sample"))
    waivers = check_advertising_rules(tenant, spec, estimates)
    content = {k: spec.get(k) for k in CONTENT}
    tpl = save_template(session, tenant, {"name": name, **content}, "template")
    record_waivers(session, tenant, name, waivers, actor, now or datetime.now(UTC))
    TENANT_CONFIG.invalidate(tenant.id)
    return tpl, previous, estimates


def template_users(session: Session, tenant_id: str, name: str) -> list[str]:
    """Who sends this template: the flows by name, then "campaign <name>" for each campaign."""
    return list(
        session.scalars(select(Flow.name).where(Flow.tenant_id == tenant_id, Flow.template == name))
    ) + [
        f"campaign {n}"
        for n in session.scalars(
            select(Campaign.name).where(Campaign.tenant_id == tenant_id, Campaign.template == name)
        )
    ]


def delete_template(session: Session, tenant_id: str, name: str) -> list[Template]:
    """Delete every version; refused while a flow or campaign still names the template."""
    rows = list(
        session.scalars(
            select(Template)
            .where(Template.tenant_id == tenant_id, Template.name == name)
            .order_by(Template.version)
        )
    )
    if not rows:
        raise RelayError("template_not_found", f"no template {name!r}", 404)
    users = template_users(session, tenant_id, name)
    if users:
        raise RelayError(
            "template_in_use",
            f"template {name!r} is used by {', '.join(users)}",
            409,
            {"name": users},
        )
    session.execute(delete(Template).where(Template.tenant_id == tenant_id, Template.name == name))
    TENANT_CONFIG.invalidate(tenant_id)
    return rows


def latest_of_each(session: Session, tenant_id: str) -> list[Template]:
    """The newest version of each of the tenant's templates, by name."""
    newest = (
        select(Template.name, func.max(Template.version).label("version"))
        .where(Template.tenant_id == tenant_id)
        .group_by(Template.name)
        .subquery()
    )
    stmt = (
        select(Template)
        .join(newest, (Template.name == newest.c.name) & (Template.version == newest.c.version))
        .where(Template.tenant_id == tenant_id)
        .order_by(Template.name)
    )
    return list(session.scalars(stmt))
