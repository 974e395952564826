"""Marshmallow schemas of templates and flows (requests, answers, the OpenAPI document)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from relay.api.admin_core_schemas import page_of
from shared.events import CATEGORIES, CHANNELS, EVENT_TYPES, ViberSchema
from shared.wire_fields import StrictBoolean

NAME = validate.Regexp(r"^[A-Za-z0-9_.\-]{1,100}$", error="1–100 of A-Z a-z 0-9 _ . -")
MAX_TEXT = 5000


class TemplateViberSchema(ViberSchema):
    """Viber extras of a template: image URL, button {caption, url}, ttl seconds."""

    class Meta:
        unknown = RAISE  # a typo in a saved template must not vanish silently


class TemplateBodySchema(Schema):
    """PUT /v1/templates/<name>: the content of a new version."""

    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    sms_text = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT)
    )
    viber_text = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT)
    )
    viber = fields.Nested(TemplateViberSchema, load_default=None, allow_none=True)
    sender = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 32))
    sample = fields.Dict(
        keys=fields.String(),
        load_default=None,
        allow_none=True,
        metadata={"description": "data to render with at save time (not stored)"},
    )


class TemplateCreateSchema(TemplateBodySchema):
    """POST /v1/templates."""

    name = fields.String(required=True, validate=NAME)


class VariantSchema(Schema):
    """One channel's text as it would be sent with the sample data."""

    channel = fields.String()
    text = fields.String()
    footer_appended = fields.Boolean()
    encoding = fields.String(allow_none=True)
    segments = fields.Integer()
    characters = fields.Integer()
    cost = fields.String()
    currency = fields.String()


class VersionSchema(Schema):
    """A template version in the list."""

    version = fields.Integer()
    created_at = fields.String()


class TemplateSchema(Schema):
    """A template version, with estimates (on save) or its version list (on GET)."""

    name = fields.String()
    version = fields.Integer()
    category = fields.String()
    sms_text = fields.String(allow_none=True)
    viber_text = fields.String(allow_none=True)
    viber = fields.Dict(allow_none=True)
    sender = fields.String(allow_none=True)
    created_at = fields.String()
    changed = fields.Boolean(metadata={"description": "false when the content was unchanged"})
    estimates = fields.List(fields.Nested(VariantSchema))
    versions = fields.List(fields.Nested(VersionSchema))


class TemplateQuerySchema(Schema):
    """GET /v1/templates/<name>?version=n."""

    version = fields.Integer(validate=validate.Range(min=1))


class PreviewBodySchema(Schema):
    """POST /v1/templates/<name>/preview."""

    data = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "sample data, merged over the built-in sample"},
    )
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    phone = fields.String(
        load_default=None, allow_none=True, metadata={"description": "price for this destination"}
    )


class PreviewSchema(Schema):
    """A rendered template; sends nothing."""

    name = fields.String()
    version = fields.Integer()
    category = fields.String()
    variants = fields.List(fields.Nested(VariantSchema))


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


class FlowCreateSchema(FlowBodySchema):
    """POST /v1/flows."""

    name = fields.String(required=True, validate=NAME)


class FlowSchema(FlowBodySchema):
    """A flow."""

    id = fields.Integer()
    name = fields.String()


TemplatePageSchema = page_of(TemplateSchema, "TemplatePage")
FlowPageSchema = page_of(FlowSchema, "FlowPage")
