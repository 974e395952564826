"""Schemas of relay.api.senders: sender names."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from relay.api.http import PageQuerySchema


class SenderCreateSchema(Schema):
    """POST /v1/senders: a tenant requests a name; the operator may also set its state."""

    channel = fields.String(required=True, validate=validate.OneOf(["sms", "viber"]))
    name = fields.String(required=True, validate=validate.Length(1, 32))
    tenant_id = fields.String(metadata={"description": "operator only"})
    state = fields.String(validate=validate.OneOf(["requested", "active", "rejected"]))


class SenderPatchSchema(Schema):
    """PATCH /v1/senders/<id>."""

    state = fields.String(
        required=True, validate=validate.OneOf(["requested", "active", "rejected"])
    )


class SenderSchema(Schema):
    """A sender name and its state."""

    id = fields.Integer()
    tenant_id = fields.String()
    channel = fields.String()
    name = fields.String()
    state = fields.String()
    created_at = fields.String()


class SenderQuerySchema(PageQuerySchema):
    """Filters of GET /v1/senders."""

    tenant_id = fields.String(metadata={"description": "operator only"})
    channel = fields.String(validate=validate.OneOf(["sms", "viber"]))
    state = fields.String(validate=validate.OneOf(["requested", "active", "rejected"]))
