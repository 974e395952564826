"""Schemas of relay.api.flows."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.api.schemas.templates import NAME
from shared.events import CATEGORIES, CHANNELS, EVENT_TYPES
from shared.wire_fields import StrictBoolean


class FlowBodySchema(Schema):
    """PUT /v1/flows/<name>: the whole flow."""

    trigger = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    conditions = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 100)),
        values=fields.Raw(),
        load_default=dict,
        metadata={"description": "dotted event path → value or list of values"},
    )
    template = fields.String(load_default=None, allow_none=True, validate=NAME)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        load_default=lambda: ["sms"],
        validate=validate.Length(1, len(CHANNELS)),
        metadata={"description": "channel plan in order, e.g. [viber, sms]"},
    )
    delay_seconds = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(0, 90 * 24 * 3600)
    )
    cancel_on = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), load_default=list)
    cancel_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    urgent = StrictBoolean(
        load_default=False, metadata={"description": "transactional: send in quiet hours"}
    )
    enabled = StrictBoolean(load_default=True)
    survey = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 100),
        metadata={
            "description": "the name of an NPS survey (POST /v1/surveys) this flow's message "
            "asks: a 0–10 reply within the survey's window is scored"
        },
    )


class FlowCreateSchema(FlowBodySchema):
    """POST /v1/flows."""

    name = fields.String(required=True, validate=NAME)


class FlowSchema(FlowBodySchema):
    """A flow."""

    id = fields.Integer()
    name = fields.String()
