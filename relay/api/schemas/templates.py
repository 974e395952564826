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


class OverrideSchema(Schema):
    """A justified soft finding."""

    class Meta:
        unknown = RAISE

    rule = fields.String(
        required=True, validate=validate.OneOf(("superlative", "restricted_goods", "no_sender"))
    )
    justification = fields.String(required=True, validate=validate.Length(5, 2000))


class FindingSchema(Schema):
    """An advertising-rule finding (relay.policy.advertising)."""

    rule = fields.String()
    severity = fields.String(metadata={"enum": ["hard", "soft"]})
    words = fields.List(fields.String())
    detail = fields.String()
    waived = fields.Boolean()
    justification = fields.String()


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
    overrides = fields.List(
        fields.Nested(OverrideSchema),
        load_default=list,
        metadata={
            "description": "justifications of soft advertising findings (superlative, "
            "restricted_goods, no_sender), recorded with the tenant and audited; an obscene "
            "word cannot be overridden"
        },
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
    findings = fields.List(fields.Nested(FindingSchema))


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
