"""Schemas of relay.api.templates."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from relay.api.schemas import db_int
from shared.events import CATEGORIES, ViberSchema

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

    class Meta:
        unknown = EXCLUDE

    version = db_int(minimum=1)


class PreviewBodySchema(Schema):
    """POST /v1/templates/<name>/preview."""

    data = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "sample data, merged over the built-in sample"},
    )
    version = db_int(minimum=1, load_default=None, allow_none=True)
    phone = fields.String(
        load_default=None, allow_none=True, metadata={"description": "price for this destination"}
    )


class PreviewSchema(Schema):
    """A rendered template; sends nothing."""

    name = fields.String()
    version = fields.Integer()
    category = fields.String()
    variants = fields.List(fields.Nested(VariantSchema))
