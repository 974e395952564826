"""The tenant's templates and flows made from the connector's settings.

A mapped stage becomes one relay flow: trigger `order.status_changed`, conditions on the
stage id and on the entity type (a lead's "NEW" is not a deal's "NEW"), the chosen template.
A stage that loses its template keeps its flow, disabled, so the relay's history of which flow
planned which message stays readable.
"""

from __future__ import annotations

from typing import Any

CATEGORIES = ("transactional", "marketing")


def flow_name(entity_type: str, stage: str) -> str:
    """Unique per tenant, at most 100 characters (the relay's column)."""
    return f"b24:{entity_type}:{stage}"[:100]


def _flow(
    entity_type: str, stage: str, template: str, category: str, urgent: bool, enabled: bool
) -> dict[str, Any]:
    return {
        "name": flow_name(entity_type, stage),
        "trigger": "order.status_changed",
        "conditions": {"order.status": stage, "data.bitrix24.entity_type": entity_type},
        "template": template,
        "category": category,
        # urgent only means something for transactional messages: it skips quiet hours
        "urgent": bool(urgent and category == "transactional"),
        "enabled": enabled,
    }


def flows_document(
    settings: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`{"templates": [...], "flows": [...]}` for `ctx.tenants.load_flows`."""
    templates = settings.get("templates") or {}
    sender = str(settings.get("sender") or "").strip() or None
    doc_templates = [
        {
            "name": name,
            "category": spec.get("category", "transactional"),
            "sms_text": spec.get("text", ""),
            "sender": sender,
        }
        for name, spec in sorted(templates.items())
    ]
    urgent = bool(settings.get("stage_urgent"))
    mapping: dict[str, dict[str, str]] = settings.get("stage_templates") or {}
    flows = [
        _flow(
            entity,
            stage,
            template,
            templates[template].get("category", "transactional"),
            urgent,
            True,
        )
        for entity, stages in sorted(mapping.items())
        for stage, template in sorted(stages.items())
        if template in templates
    ]
    old: dict[str, dict[str, str]] = (previous or {}).get("stage_templates") or {}
    old_templates = (previous or {}).get("templates") or {}
    for entity, stages in sorted(old.items()):
        for stage, template in sorted(stages.items()):
            if stage in mapping.get(entity, {}):
                continue
            known = templates.get(template) or old_templates.get(template) or {}
            if template not in templates:
                continue  # the template itself is gone; the flow keeps its old definition
            flows.append(
                _flow(
                    entity, stage, template, known.get("category", "transactional"), urgent, False
                )
            )
    return {"templates": doc_templates, "flows": flows}
