"""Per-account settings: which pipeline stages send which text, consent field, sender name.

Stored in the installation's `settings` next to what the install learnt about the account
(`account_id`, `subdomain`, `domain`, `country`, `currency`). Saving settings also installs
the matching templates and flows in the tenant (one flow per stage, `enabled: false` for a
stage that was removed), so the relay's own flow engine decides and renders the messages.
"""

from __future__ import annotations

from typing import Any, cast

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from connectors.amocrm.mapping import stage_key

MAX_STAGES = 100
# Keys written by the install, never by the settings API.
ACCOUNT_KEYS = ("account_id", "subdomain", "domain", "country", "currency", "name")
TEMPLATE_PREFIX = "amocrm_"
FLOW_PREFIX = "amocrm-"


class StageSchema(Schema):
    """One stage → one message. `text` (a template body) or `template` (an existing name)."""

    class Meta:
        """A typo in a field name must be an error, not a silently ignored key."""

        unknown = RAISE

    pipeline_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    status_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    text = fields.String(load_default=None, validate=validate.Length(1, 2000))
    template = fields.String(
        load_default=None, validate=validate.Regexp(r"\A[A-Za-z0-9_.-]{1,64}\Z")
    )
    category = fields.String(
        load_default="transactional", validate=validate.OneOf(["transactional", "marketing"])
    )
    urgent = fields.Boolean(load_default=False)

    @validates_schema
    def _text_or_template(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("text") and not data.get("template"):
            raise ValidationError("give the message text or an existing template name", "text")


class SettingsSchema(Schema):
    """The editable settings."""

    class Meta:
        """Account keys (account_id …) are dropped: only the install writes them."""

        unknown = EXCLUDE

    sender = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 20))
    consent_field_id = fields.Integer(
        load_default=None, allow_none=True, strict=False, validate=validate.Range(min=1)
    )
    consent_wording = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, 10_000)
    )
    stages = fields.List(
        fields.Nested(StageSchema), load_default=list, validate=validate.Length(max=MAX_STAGES)
    )

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("consent_field_id") and not data.get("consent_wording"):
            raise ValidationError(
                "the wording the customer agreed to is the consent's evidence", "consent_wording"
            )
        seen: set[str] = set()
        for stage in data.get("stages") or []:
            key = stage_key(stage["pipeline_id"], stage["status_id"])
            if key in seen:
                raise ValidationError(f"stage {key} is configured twice", "stages")
            seen.add(key)


def load_settings(body: Any) -> dict[str, Any]:
    """Validate a settings document; raises marshmallow.ValidationError with field errors."""
    if not isinstance(body, dict):
        raise ValidationError({"_schema": ["the body must be a JSON object"]})
    # marshmallow's load is untyped; a Schema without post_load loads to a dict.
    return cast(dict[str, Any], SettingsSchema().load(body))


def public_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """What the settings API shows: the editable part and the account it belongs to."""
    return {
        "account": {key: settings.get(key) for key in ACCOUNT_KEYS if key in settings},
        "sender": settings.get("sender"),
        "consent_field_id": settings.get("consent_field_id"),
        "consent_wording": settings.get("consent_wording"),
        "stages": list(settings.get("stages") or []),
    }


def configured_stage(settings: dict[str, Any], stage: str) -> dict[str, Any] | None:
    """The stage entry for "pipeline:status", or None when that stage sends nothing."""
    stages: list[dict[str, Any]] = settings.get("stages") or []  # StageSchema's dicts
    for entry in stages:
        if stage_key(entry.get("pipeline_id"), entry.get("status_id")) == stage:
            return entry
    return None


def _names(stage: dict[str, Any]) -> tuple[str, str]:
    suffix = f"{stage['pipeline_id']}_{stage['status_id']}"
    template = stage.get("template") or f"{TEMPLATE_PREFIX}{suffix}"
    return template, f"{FLOW_PREFIX}{suffix.replace('_', '-')}"


def _flow(stage: dict[str, Any], enabled: bool) -> dict[str, Any]:
    template, flow = _names(stage)
    return {
        "name": flow,
        "trigger": "order.status_changed",
        # the source condition keeps another connector's order events of this tenant out
        "conditions": {
            "source.platform": "amocrm",
            "data.stage": stage_key(stage["pipeline_id"], stage["status_id"]),
        },
        "template": template,
        "category": stage.get("category") or "transactional",
        "urgent": bool(stage.get("urgent", False)),
        "enabled": enabled,
    }


def flows_document(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """The templates and flows the tenant needs for `new`, disabling stages `old` had."""
    templates, flows = [], []
    for stage in new.get("stages") or []:
        name, _flow_name = _names(stage)
        if stage.get("text"):
            templates.append(
                {
                    "name": name,
                    "category": stage.get("category") or "transactional",
                    "sms_text": stage["text"],
                    "sender": new.get("sender"),
                }
            )
        flows.append(_flow(stage, True))
    kept = {flow["name"] for flow in flows}
    for stage in old.get("stages") or []:
        disabled = _flow(stage, False)
        if disabled["name"] not in kept:
            flows.append(disabled)
    return {"templates": templates, "flows": flows}
