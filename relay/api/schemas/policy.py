"""Schemas of relay.api.policy: what the policy would decide."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from shared.events import CATEGORIES, CHANNELS


class ExplainIn(Schema):
    """POST /v1/policy/explain: a message that is not sent, and when (default now)."""

    class Meta:
        unknown = EXCLUDE

    phone = fields.String(required=True, metadata={"example": "+375291234567"})
    category = fields.String(load_default="transactional", validate=validate.OneOf(CATEGORIES))
    channel = fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))
    at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "ISO 8601 with an offset (default: now)"},
    )
    text = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10_000),
        metadata={"description": "the text to check for opt-out wording (default 'STOP')"},
    )
    sender = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    urgent = fields.Boolean(load_default=False)
    timezone = fields.String(
        load_default=None, allow_none=True, metadata={"description": "the recipient's IANA zone"}
    )
    region = fields.String(
        load_default=None, allow_none=True, metadata={"description": "the recipient's region"}
    )


class ReasonSchema(Schema):
    """Why: a code and a sentence."""

    code = fields.String(metadata={"example": "quiet_hours"})
    detail = fields.String()


class DecisionSchema(Schema):
    """What the policy decided: send, defer (until not_before) or block."""

    decision = fields.String(metadata={"enum": ["send", "defer", "block"]})
    reasons = fields.List(fields.Nested(ReasonSchema))
    not_before = fields.String(allow_none=True, metadata={"format": "date-time"})
    timezones = fields.List(fields.String())
    timezone_source = fields.String(allow_none=True)
    phone = fields.String()
